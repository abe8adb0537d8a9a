"""Runs in the client namespace: GETs URL every 10 ms (connect timeout 0.2 s) until one answers
200; prints the CLOCK_MONOTONIC time of that answer. Only the address given is contacted."""
import http.client
import sys
import time
import urllib.parse

u = urllib.parse.urlsplit(sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=0.2)
        conn.request("GET", "/", headers={"Connection": "close"})
        if conn.getresponse().status == 200:
            print(time.monotonic())
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.01)
sys.exit(1)
