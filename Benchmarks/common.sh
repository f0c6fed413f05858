# Shared by the benchmark scripts: a release build, a free loopback port, a scratch folder.
# Sourced after `cd` to the repository root; sets BIN, PORT, BASE (with a trailing slash) and data.
swift build -c release >/dev/null
BIN=.build/release/tessera
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
BASE="http://127.0.0.1:$PORT/"
data=$(mktemp -d "/tmp/tessera-bench-$1.XXXXXX")
