"""Records the oracle's answer to every case in cases.py into <case>.expected.json.
Run with the oracle up: BACKSTAGE_PORT=7011 ./start.sh (see ../../../../../shared/anchors)."""
import base64, json, os, sys, urllib.request
sys.path.insert(0, os.path.dirname(__file__))
from cases import CASES

PORT = os.environ.get("BACKSTAGE_PORT", "7011")
here = os.path.dirname(os.path.abspath(__file__))
for name, case in CASES.items():
    body = {"template": case["template"], "values": case["values"], "secrets": case.get("secrets", {}),
            "directoryContents": [{"path": p, "base64Content": base64.b64encode(t.encode()).decode()}
                                  for p, t in case["files"].items()]}
    with open(os.path.join(here, f"{name}.request.json"), "w") as f:
        json.dump(body, f, indent=1)
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}/api/scaffolder/v2/dry-run", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    try:
        r = urllib.request.urlopen(req); status, answer = r.status, json.load(r)
    except urllib.error.HTTPError as e:
        status, answer = e.code, json.loads(e.read())
    with open(os.path.join(here, f"{name}.expected.json"), "w") as f:
        json.dump({"status": status, "body": answer}, f, indent=1, ensure_ascii=False)
    print(name, status)
