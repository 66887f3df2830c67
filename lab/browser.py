"""Headless Chromium for the lab: the rendered DOM of a page, or a screenshot of it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from lab.processes import LabStartError

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--hide-scrollbars", "--disable-extensions")


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise LabStartError("chromium is not installed: run `make setup` (Debian package chromium)")
    return path


def _run(url: str, *extra: str, wait_ms: int) -> subprocess.CompletedProcess[str]:
    """`wait_ms` of virtual time lets the page's scripts fetch and render before the capture."""
    with tempfile.TemporaryDirectory(prefix="callsla-chromium-") as profile:
        return subprocess.run(
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             f"--virtual-time-budget={wait_ms}", *extra, url],
            capture_output=True, text=True, timeout=60, check=True,
        )


def rendered_dom(url: str, *, wait_ms: int = 3000) -> str:
    return _run(url, "--dump-dom", wait_ms=wait_ms).stdout


def screenshot(url: str, path: Path, *, width: int = 1920, height: int = 1080,
               wait_ms: int = 3000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, f"--screenshot={path}", f"--window-size={width},{height}", wait_ms=wait_ms)
    return path


class BrowserTab:
    """One headless Chromium tab driven over the DevTools protocol (aiohttp's WebSocket client):
    for tests that log in, fill forms and click, which `--dump-dom` cannot."""

    def __init__(self, ws: Any, session: Any, process: subprocess.Popen[bytes],
                 profile: str) -> None:
        self._ws = ws
        self._session = session
        self._process = process
        self._profile = profile
        self._next_id = 0

    @classmethod
    async def open(cls, *, width: int = 412, height: int = 915) -> BrowserTab:
        """A tab the size of a phone's screen unless told otherwise."""
        import aiohttp

        profile = tempfile.mkdtemp(prefix="callsla-chromium-")
        process = subprocess.Popen(  # noqa: ASYNC220 - starts at once; its output is ignored
            [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(profile) / "DevToolsActivePort"
        for _ in range(200):
            if port_file.is_file() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.05)
        port = port_file.read_text().split()[0]
        session = aiohttp.ClientSession()
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            pages = [t for t in await response.json() if t["type"] == "page"]
        ws = await session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        tab = cls(ws, session, process, profile)
        await tab.send("Page.enable")
        await tab.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                       deviceScaleFactor=1, mobile=width < 800)
        return tab

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        await self._ws.send_json({"id": self._next_id, "method": method, "params": params})
        while True:
            message = await self._ws.receive_json(timeout=30)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                                 returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, *, timeout: float = 10.0) -> None:
        """Until the page's `expression` is true (e.g. after a form's submit loaded a page)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.evaluate(f"document.readyState === 'complete' && !!({expression})"):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"page never had {expression}")
            await asyncio.sleep(0.1)

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.body")

    async def screenshot(self, path: Path) -> Path:
        import base64

        shot = await self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))  # noqa: ASYNC240 - a test's screenshot
        return path

    async def close(self) -> None:
        await self._ws.close()
        await self._session.close()
        self._process.terminate()
        self._process.wait(10)
        shutil.rmtree(self._profile, ignore_errors=True)
