"""Headless Chromium for tests, driven over the Chrome DevTools protocol (CDP).

Uses the system's Chromium (Debian package `chromium`; `make test` installs it when run as
root) and `websockets`, already a dependency: no browser download. Collects JavaScript
exceptions and console errors while a page loads, evaluates expressions in it and takes
screenshots of its elements.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
MISSING = ("Chromium not found: the report's browser tests need headless Chromium. Install "
           "it with `apt-get install -y chromium` (make test does this when run as root), "
           "or point SHOP_CHROMIUM at the binary.")


def find_chromium() -> str | None:
    if os.environ.get("SHOP_CHROMIUM"):
        return os.environ["SHOP_CHROMIUM"]
    return next(filter(None, map(shutil.which, CANDIDATES)), None)


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, binary: str, width: int = 1400, height: int = 1000, timeout: float = 60):
        self.timeout = timeout
        # Chromium's helper processes may still write the profile while it exits.
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-",
                                                   ignore_cleanup_errors=True)
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-dev-shm-usage", "--disable-extensions", "--hide-scrollbars",
             "--host-resolver-rules=MAP * ~NOTFOUND",  # no network: pages must be self-contained
             f"--user-data-dir={self.profile.name}", f"--window-size={width},{height}",
             "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.ws = connect(self._devtools_url(), max_size=None, open_timeout=timeout)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self._send("Target.attachToTarget",
                                  {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def _devtools_url(self) -> str:
        deadline = time.monotonic() + self.timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            lines.append(line)
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                return match.group(1)
        self.close()
        raise RuntimeError("Chromium did not start:\n" + "".join(lines[-20:]))

    def _send(self, method: str, params: dict | None = None, session: str | None = None):
        message_id = next(self.ids)
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=self.timeout))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def send(self, method: str, params: dict | None = None) -> dict:
        return self._send(method, params, self.session)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load in {self.timeout} s")
            self.events.append(json.loads(self.ws.recv(timeout=self.timeout)))

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression (promises are awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def errors(self) -> list[str]:
        """JavaScript exceptions, console errors and error log entries seen so far."""
        self.evaluate("1")  # drain events that arrived after the last command
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description")
                             or details.get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                found.append(" ".join(str(a.get("value", a.get("description", "")))
                                      for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    def screenshot(self, selector: str, path: Path) -> Path:
        """A PNG of the first element matching the CSS selector, whole (beyond the window)."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return {x: r.left + window.scrollX, "
            "y: r.top + window.scrollY, width: r.width, height: r.height}; })()")
        data = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {**box, "scale": 1}})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Ask Chromium to quit (it then ends its helper processes), else terminate it."""
        if getattr(self, "ws", None):
            try:
                self._send("Browser.close")
            except (ConnectionClosed, RuntimeError, TimeoutError):
                self.process.terminate()  # it closed the socket first, or is gone
            self.ws.close()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
