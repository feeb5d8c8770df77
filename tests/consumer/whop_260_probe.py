"""Run by the Python of a venv that has whop-sdk 2.6.0 (Fern) and nothing of ours: one update against
BASE_URL, sending the renamed field; prints what happened as one JSON line.

    python whop_260_probe.py BASE_URL CHAT_ID
"""

import json
import sys

import whop_sdk
from whop_sdk import Whop
from whop_sdk.environment import WhopEnvironment

base_url, chat_id = sys.argv[1], sys.argv[2]
client = Whop(token="cc_test_token", environment=WhopEnvironment(api=base_url, vault=base_url), max_retries=0)
try:
    chat = client.ai_chats.update(chat_id, title="Help with billing", current_account_id="biz_XXXXX")
    print(json.dumps({"version": whop_sdk.__version__, "parsed": True, "agent_identifier": chat.agent_identifier}))
except Exception as exc:  # the probe reports whatever the SDK raised
    print(
        json.dumps(
            {"version": whop_sdk.__version__, "parsed": False, "error": type(exc).__name__, "message": str(exc)[:2000]}
        )
    )
