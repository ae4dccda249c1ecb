"""AWS Backup's ListProtectedResources for the demo: moto's server does not implement it (it answers 404), so the
coverage survey and the Home tab would list every account as "not read". Answered here as AWS answers it for an
account where AWS Backup protects nothing yet: `{"Results": []}` (GET /resources/, the API model's REST path)."""

from __future__ import annotations

from bot.demo.aws.front import Answer, DynamoDbFront, IncomingRequest

PATH = "/resources/"


def answer_protected_resources(front: DynamoDbFront) -> None:
    """Answer ListProtectedResources on `front` (every other AWS Backup request still goes to moto)."""
    front.add_gate(_protected_resources)


def _protected_resources(request: IncomingRequest) -> Answer | None:
    signed_for = request.header("Authorization").partition("Credential=")[2].split(",", 1)[0].split("/")
    is_backup = len(signed_for) > 3 and signed_for[3] == "backup"
    if request.method != "GET" or not is_backup or request.path.split("?", 1)[0] != PATH:
        return None
    return Answer.of_json({"Results": []})
