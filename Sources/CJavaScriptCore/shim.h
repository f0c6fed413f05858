// JavaScriptCore's C API (Debian: libjavascriptcoregtk-4.1-dev; macOS: the JavaScriptCore framework).
#include <JavaScriptCore/JavaScript.h>
#include <stdbool.h>

// Exported by the library but declared only in a private header: stops runaway scripts at a time limit.
typedef bool (*TesseraShouldTerminateCallback)(JSContextRef ctx, void *context);
extern void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
                                                TesseraShouldTerminateCallback callback, void *context);
