"""`python -m jobrunner_api.rotate`: stored secrets move to ENCRYPTION_KEY's new first key."""

import secrets as random
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient

from jobrunner_shared import names
from jobrunner_shared.secretbox import DEV_KEY, SecretBox, SecretBoxError
from tests.support.platform import BIN, Tenant

pytestmark = pytest.mark.integration


def test_rotation_re_encrypts_with_the_new_key_and_reports_what_no_key_opens(
    platform, tenant: Tenant, mongodb_url: str, mongodb_db_name: str, tmp_path: Path
) -> None:
    # Given a secret stored under the platform's key, and one stored under a key now lost
    value = f"rot-{random.token_hex(8)}"
    with tenant.client() as client:
        assert client.put("/secrets/ROTATED", json={"value": value}).status_code == 201
        tenant_id = client.get("/me").json()["tenant"]["id"]
    lost_id = f"rotate-test-{random.token_hex(4)}:LOST"
    with MongoClient(mongodb_url, serverSelectionTimeoutMS=10_000) as mongo:
        collection = mongo[mongodb_db_name][names.SECRETS_COLLECTION]
        collection.insert_one({"_id": lost_id, "tenant_id": "x", "name": "LOST",
                               "ciphertext": SecretBox("lost-" + "l" * 40).encrypt("gone")})
        try:
            # When the operator puts a new key first and runs the rotation
            new_key = "new-key-" + random.token_hex(20)
            result = subprocess.run(
                [str(BIN / "python"), "-m", "jobrunner_api.rotate"],
                env={"ENVIRONMENT": "development", "MONGODB_URL": mongodb_url,
                     "MONGODB_DB": mongodb_db_name, "ENCRYPTION_KEY": f"{new_key},{DEV_KEY}"},
                capture_output=True, text=True, timeout=60, cwd=tmp_path,
            )
            # Then it says what it did, and names the secret it could not open, exit status 1
            assert result.returncode == 1, result.stdout + result.stderr
            assert "re-encrypted" in result.stdout and "with the first of 2 keys" in result.stdout
            assert lost_id in result.stderr
            assert value not in result.stdout + result.stderr
            # And the secret is now readable with the new key alone, with the same value
            doc = collection.find_one({"_id": f"{tenant_id}:ROTATED"})
            assert SecretBox(new_key).decrypt(doc["ciphertext"]) == value
            with pytest.raises(SecretBoxError):
                SecretBox(DEV_KEY).decrypt(doc["ciphertext"])
        finally:
            collection.delete_one({"_id": lost_id})
