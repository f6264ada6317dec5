"""The sandbox behind `make run`: a real controller recording, served over
real SNMP on 127.0.0.1 by snmpsim, watched by `wifimon run`.

The recording is the Cisco AIR-CT5508-K9 controller (226 APs) of the PyPI
package snmpsim-data. Everything lives under .work/ in the checkout and is
stopped on Ctrl-C. Until the demo city exists (`wifimon demo`), this is the
quickest way to see wifimon on real device data.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wifimon.simulator.snmpsim import install_recording, recording_path, start_snmpsim

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".work" / "sandbox"
COMMUNITY = "cisco-5508"  # snmpsim picks the recording by community
RECORDING = "network/appliance/cisco-controller.snmprec.bz2"

CONFIG = """\
# Written by scripts/play_recording.py; wifimon watching a recorded controller.
poll:
  interval: {interval}s
  timeout: 5s
  retries: 2
credentials:
  recording:
    version: 2c
    community: ${{WIFIMON_SANDBOX_COMMUNITY}}
controllers:
  - name: wlc-5508
    host: 127.0.0.1
    port: {snmp_port}
    credentials: recording
    profile: auto
    site: campus
    district: Centre
exporters:
  prometheus:
    listen: "127.0.0.1:{http_port}"
state_dir: state
"""


def _summary(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
        text = response.read().decode()
    up = sum(
        1 for line in text.splitlines() if line.startswith("wifimon_ap_up{") and line.endswith(" 1")
    )
    total = sum(1 for line in text.splitlines() if line.startswith("wifimon_ap_up{"))
    return f"{up}/{total} APs up, {len(text.splitlines())} lines of metrics"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snmp-port", type=int, default=16161)
    parser.add_argument("--http-port", type=int, default=9877)
    parser.add_argument("--interval", type=int, default=30)
    args = parser.parse_args()

    data_dir = WORK / "data"
    install_recording(recording_path(RECORDING), data_dir, COMMUNITY)
    print(
        f"serving {RECORDING} over SNMP on 127.0.0.1:{args.snmp_port} (first start indexes it)..."
    )
    try:
        agent = start_snmpsim(
            data_dir, WORK / "snmpsim-cache", args.snmp_port, COMMUNITY, log=WORK / "snmpsim.log"
        )
    except (RuntimeError, TimeoutError) as error:
        print(f"error: {error} (try --snmp-port)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    config = WORK / "wifimon.yaml"
    config.write_text(
        CONFIG.format(interval=args.interval, snmp_port=args.snmp_port, http_port=args.http_port)
    )
    env = {**os.environ, "WIFIMON_SANDBOX_COMMUNITY": COMMUNITY}
    daemon = subprocess.Popen([sys.executable, "-m", "wifimon", "run", "-c", str(config)], env=env)
    url = f"http://127.0.0.1:{args.http_port}/metrics"
    print(f"wifimon is polling; metrics at {url} (Ctrl-C stops everything)")
    try:
        pause = 2.0  # until the first poll is published, then once per interval
        while daemon.poll() is None:
            time.sleep(pause)
            try:
                print(f"{time.strftime('%H:%M:%S')} {_summary(url)}")
                pause = args.interval
            except OSError:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
