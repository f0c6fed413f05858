"""Browser checks for pages the suite opens in Chromium (conftest.chromium): accessibility, first paint, keyboard reach.

Each takes a Selenium driver on the page to check (the top-level document; an iframe's content is not looked into).
"""

import json

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

MAX_TARGETS = 3  # node targets kept per violation
MAX_TABS = 200
PAINT_WAIT_MS = 2000


def axe_violations(driver, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations on the current page (axe-selenium-python's bundled axe-core: 4.10.2 with 3.0.0) whose
    impact is one of `impacts`, each as {"id", "impact", "help", "count": nodes affected, "targets": the first
    MAX_TARGETS nodes' CSS selectors}: short enough for an assertion message. Targets inside shadow DOM or iframes,
    which axe gives as lists of selectors (one per frame, one per shadow root), are joined with " >>> "."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    axe.inject()
    # Only violations are read: one node per pass/incomplete/inapplicable result keeps the answer small.
    results = axe.run(options=json.dumps({"resultTypes": ["violations"]}))
    found = []
    for violation in results.get("violations", []):
        if violation.get("impact") not in impacts:
            continue
        nodes = violation.get("nodes", [])
        found.append({
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation.get("help", ""),
            "count": len(nodes),
            "targets": [" >>> ".join(_selector(part) for part in node.get("target", []))
                        for node in nodes[:MAX_TARGETS]],
        })
    return found


def _selector(part) -> str:
    # A list is a shadow DOM path: the host's selector, then one in its shadow root, and so on.
    return " >>> ".join(part) if isinstance(part, list) else str(part)


_FIRST_PAINT = """
const done = arguments[arguments.length - 1];
const wait = arguments[0];
const pick = () => {
  const entries = performance.getEntriesByType('paint');
  const entry = entries.find(e => e.name === 'first-paint') || entries.find(e => e.name === 'first-contentful-paint');
  return entry ? entry.startTime : null;
};
const now = pick();
if (now !== null || typeof PerformanceObserver === 'undefined'
    || !(PerformanceObserver.supportedEntryTypes || []).includes('paint')) { done(now); return; }
let finished = false;
const finish = () => { if (!finished) { finished = true; observer.disconnect(); done(pick()); } };
const observer = new PerformanceObserver(finish);
observer.observe({type: 'paint', buffered: true});
setTimeout(finish, wait);
"""


def first_paint_ms(driver) -> float | None:
    """Milliseconds from the start of the current document's navigation (performance.timeOrigin) to its first paint:
    the Paint Timing API's 'first-paint' entry, or 'first-contentful-paint' when there is no 'first-paint'. None when
    the browser reports neither within PAINT_WAIT_MS (a page that paints nothing, e.g. an empty one, has none).

    Headless Chromium (--headless=new, as conftest.chromium starts it) does report both entries, but its load event,
    and so driver.get(), can come before the first paint: with no entry yet, this waits for one (a buffered
    PerformanceObserver) for at most PAINT_WAIT_MS. The value is a time since navigation start, not a duration
    measured here, so it does not grow with the wait. It is no load time: for that, read
    performance.getEntriesByType('navigation')[0].loadEventEnd (or domContentLoadedEventEnd), also relative to
    navigation start."""
    value = driver.execute_async_script(_FIRST_PAINT, PAINT_WAIT_MS)
    return None if value is None else float(value)


# Focus navigation starts after the focused element, or after the last one focused even once it is blurred; so
# focus a throwaway element at the very start of <body>, and Tab goes from there to the page's first tabbable element.
_FROM_THE_TOP = """
document.querySelectorAll('[data-tab-start]').forEach(e => e.remove());
const start = document.createElement('span');
start.tabIndex = -1;
start.setAttribute('data-tab-start', '');
document.body.insertBefore(start, document.body.firstChild);
start.focus({preventScroll: true});
window.scrollTo(0, 0);
"""

# document.activeElement, looking through open shadow roots, and whether it is the element we look for.
_ACTIVE = """
let active = document.activeElement;
while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement;
document.querySelectorAll('[data-tab-start]').forEach(e => e.remove());
return [active === arguments[0], active];
"""


def tab_reachable(driver, element, max_tabs: int = MAX_TABS) -> bool:
    """Whether pressing Tab from the top of the page (at most max_tabs times) ever focuses `element`, as a keyboard
    user would get to it. It stops early once focus comes back round to the first element Tab reached. Keys go
    through ActionChains to whatever has focus (element.send_keys would focus its own element first). Elements in
    open shadow roots are found; inside iframes they are not (`element` must belong to the top-level document)."""
    driver.execute_script(_FROM_THE_TOP)
    first = None
    for _ in range(max_tabs):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached, active = driver.execute_script(_ACTIVE, element)
        if reached:
            return True
        if active is None:
            continue
        if first is None:
            first = active
        elif active == first:
            return False  # round the whole tab order once
    return False
