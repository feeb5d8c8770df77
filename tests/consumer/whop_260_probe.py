# Typed against whop-sdk 2.6.0, which is not the whop_sdk installed beside this project (0.0.41).
# mypy: disable-error-code="call-arg,attr-defined"
"""Run by the Python of a venv that has whop-sdk 2.6.0 (Fern) and nothing of ours: UPDATES updates (default
1) against BASE_URL, sending the renamed field; prints what happened to each as one JSON line.

    python whop_260_probe.py BASE_URL CHAT_ID [UPDATES]
"""

import json
import sys

import whop_sdk
from whop_sdk import Whop
from whop_sdk.environment import WhopEnvironment

base_url, chat_id = sys.argv[1], sys.argv[2]
updates = int(sys.argv[3]) if len(sys.argv) > 3 else 1
client = Whop(token="cc_test_token", environment=WhopEnvironment(api=base_url, vault=base_url), max_retries=0)
for _ in range(updates):
    try:
        chat = client.ai_chats.update(chat_id, title="Help with billing", current_account_id="biz_XXXXX")
        result = {"version": whop_sdk.__version__, "parsed": True, "agent_identifier": chat.agent_identifier}
    except Exception as exc:  # the probe reports whatever the SDK raised
        result = {
            "version": whop_sdk.__version__,
            "parsed": False,
            "error": type(exc).__name__,
            "message": str(exc)[:2000],
        }
    print(json.dumps(result), flush=True)
