"""Drive a coffer server with Debian's python3-hvac (0.11.2), unchanged, the way its users do.

Run by src/e2e/hvac.test.ts with COFFER_URL and COFFER_ROOT_TOKEN set. Every check prints one
line; the first failure raises, and the exit code is non-zero.
"""
import os
import sys

import hvac
from hvac import exceptions

url = os.environ["COFFER_URL"]
root = os.environ["COFFER_ROOT_TOKEN"]
client = hvac.Client(url=url, token=root)
checks = 0


def check(what, cond):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1
    print("ok", what)


def raises(what, kind, fn, contains=None):
    try:
        fn()
    except kind as e:
        if contains is not None and contains not in str(e):
            raise AssertionError("%s: error %r lacks %r" % (what, str(e), contains))
        check(what, True)
        return
    raise AssertionError("%s: no %s raised" % (what, kind.__name__))


check("authenticated as root", client.is_authenticated())
check("initialized", client.sys.is_initialized())
check("unsealed", not client.sys.is_sealed())
health = client.sys.read_health_status(method="GET")
check("health reports a Vault API version with coffer's release as build metadata", health["version"].startswith("1.") and "+coffer." in health["version"])

# Mount options as hvac sends them: numbers, not strings.
client.sys.enable_secrets_engine("kv", path="kv2", options={"version": 2})
mounts = client.sys.list_mounted_secrets_engines()["data"]
check("options {version: 2} stored as the string 2", mounts["kv2/"]["options"] == {"version": "2"})
client.sys.enable_secrets_engine("kv", path="kv1", options={"version": 1})
client.sys.tune_mount_configuration(path="kv1", options={"version": 2})
check("tune with a numeric option upgrades the mount", client.sys.read_mount_configuration(path="kv1")["data"]["options"] == {"version": "2"})

# KV v2 through hvac's own helpers.
kv = client.secrets.kv.v2
kv.configure(max_versions=5, mount_point="kv2")
check("kv config with a numeric max_versions", kv.read_configuration(mount_point="kv2")["data"]["max_versions"] == 5)
kv.create_or_update_secret(path="app/one", secret={"password": "s3cret"}, mount_point="kv2")
kv.create_or_update_secret(path="app/two", secret={"password": "x"}, mount_point="kv2")
check("read the latest version", kv.read_secret_version(path="app/one", mount_point="kv2")["data"]["data"] == {"password": "s3cret"})
check("list_secrets without a trailing slash", kv.list_secrets(path="app", mount_point="kv2")["data"]["keys"] == ["one", "two"])
check("list_secrets of the metadata root", kv.list_secrets(path="", mount_point="kv2")["data"]["keys"] == ["app/"])
kv.patch(path="app/one", secret={"user": "admin"}, mount_point="kv2")
check("patch merges", kv.read_secret_version(path="app/one", mount_point="kv2")["data"]["data"] == {"password": "s3cret", "user": "admin"})
raises("cas below zero is Vault's mismatch", exceptions.InvalidRequest, lambda: kv.create_or_update_secret(path="app/one", secret={"a": "b"}, cas=-1, mount_point="kv2"), "check-and-set parameter did not match the current version")
kv.delete_latest_version_of_secret(path="app/one", mount_point="kv2")
raises("a deleted version reads as not found", exceptions.InvalidPath, lambda: kv.read_secret_version(path="app/one", mount_point="kv2"))
kv.undelete_secret_versions(path="app/one", versions=[2], mount_point="kv2")
check("undelete restores", kv.read_secret_version(path="app/one", mount_point="kv2")["data"]["data"]["user"] == "admin")
kv.destroy_secret_versions(path="app/one", versions=[1], mount_point="kv2")
meta = kv.read_secret_metadata(path="app/one", mount_point="kv2")["data"]
check("destroy marks the version", meta["versions"]["1"]["destroyed"] is True)
kv.update_metadata(path="app/one", max_versions=3, cas_required=False, mount_point="kv2")
check("metadata update", kv.read_secret_metadata(path="app/one", mount_point="kv2")["data"]["max_versions"] == 3)
kv.delete_metadata_and_all_versions(path="app/one", mount_point="kv2")
check("delete metadata and all versions", kv.list_secrets(path="app", mount_point="kv2")["data"]["keys"] == ["two"])

# KV v1, and the legacy client methods.
client.sys.enable_secrets_engine("kv", path="legacy", options={"version": "1"})
client.secrets.kv.v1.create_or_update_secret(path="app/a", secret={"k": "v"}, mount_point="legacy")
check("kv v1 list without a trailing slash", client.secrets.kv.v1.list_secrets(path="app", mount_point="legacy")["data"]["keys"] == ["a"])
check("legacy client.list", client.list("legacy/app")["data"]["keys"] == ["a"])
check("legacy client.read", client.read("legacy/app/a")["data"] == {"k": "v"})

# Tokens.
child = client.create_token(lease="1h", renewable=True)
check("the deprecated lease field sets a root child's TTL", child["auth"]["lease_duration"] == 3600 and child["auth"]["renewable"] is True)
check("lookup of a live token", client.auth.token.lookup(child["auth"]["client_token"])["data"]["ttl"] > 3500)
raises("lookup of an unknown token is 403", exceptions.Forbidden, lambda: client.auth.token.lookup("hvs.not-a-token"), "bad token")
renewed = client.auth.token.renew(child["auth"]["client_token"], increment="30m")
check("renew with an increment", renewed["auth"]["lease_duration"] == 1800)
client.auth.token.revoke(child["auth"]["client_token"])
raises("a revoked token is 403", exceptions.Forbidden, lambda: client.auth.token.lookup(child["auth"]["client_token"]))

# Policies and a token confined by one.
client.sys.create_or_update_policy(name="app", policy='path "kv2/data/app/*" { capabilities = ["read"] }\npath "kv2/metadata/*" { capabilities = ["list"] }\npath "kv2/metadata/private/*" { capabilities = ["deny"] }')
check("the policy is listed", "app" in client.sys.list_policies()["data"]["policies"])
kv.create_or_update_secret(path="private/p", secret={"k": "v"}, mount_point="kv2")
app = hvac.Client(url=url, token=client.create_token(policies=["app"])["auth"]["client_token"])
check("the app token reads what it may", app.secrets.kv.v2.read_secret_version(path="app/two", mount_point="kv2")["data"]["data"] == {"password": "x"})
raises("the app token may not write", exceptions.Forbidden, lambda: app.secrets.kv.v2.create_or_update_secret(path="app/two", secret={"a": "b"}, mount_point="kv2"))
check("the app token lists the metadata root", app.secrets.kv.v2.list_secrets(path="", mount_point="kv2")["data"]["keys"] == ["app/", "private/"])
raises("the deny below the list grant holds for LIST", exceptions.Forbidden, lambda: app.secrets.kv.v2.list_secrets(path="private", mount_point="kv2"))
caps = app.adapter.post("/v1/sys/capabilities-self", json={"paths": ["kv2/metadata/private/", "kv2/metadata/"]})
check("capabilities-self agrees with what LIST enforces", caps["kv2/metadata/private/"] == ["deny"] and caps["kv2/metadata/"] == ["list"])
client.sys.delete_policy(name="app")

# Auth methods, logged in through hvac's own helpers, then reading a secret.
client.sys.create_or_update_policy(name="reader", policy='path "kv2/data/app/*" { capabilities = ["read"] }')
client.sys.enable_auth_method(method_type="userpass", path="people")
client.auth.userpass.create_or_update_user(username="alice", password="pw-alice", policies="reader", mount_point="people")
check("userpass users are listed", client.auth.userpass.list_user(mount_point="people")["data"]["keys"] == ["alice"])
check("a user reads without its password", "password" not in client.auth.userpass.read_user(username="alice", mount_point="people")["data"])
user = hvac.Client(url=url)
login = user.auth.userpass.login(username="alice", password="pw-alice", mount_point="people")
check("userpass login sets the client's token", user.token == login["auth"]["client_token"] and user.is_authenticated())
check("the login carries the user's policies and metadata", login["auth"]["token_policies"] == ["default", "reader"] and login["auth"]["metadata"] == {"username": "alice"})
check("the login's entity is set and the token is an orphan service token", login["auth"]["entity_id"] != "" and login["auth"]["orphan"] is True and login["auth"]["token_type"] == "service")
check("the user reads a secret", user.secrets.kv.v2.read_secret_version(path="app/two", mount_point="kv2")["data"]["data"] == {"password": "x"})
me = user.auth.token.lookup_self()["data"]
check("lookup-self has type, a numeric ttl and expire_time", me["type"] == "service" and isinstance(me["ttl"], int) and me["ttl"] > 0 and bool(me["expire_time"]))
check("renew-self through hvac", user.auth.token.renew_self()["auth"]["client_token"] == login["auth"]["client_token"])
raises("a wrong password is refused", exceptions.InvalidRequest, lambda: hvac.Client(url=url).auth.userpass.login(username="alice", password="nope", mount_point="people"), "invalid username or password")
client.auth.userpass.update_password_on_user(username="alice", password="pw-new", mount_point="people")
check("the new password logs in", "auth" in hvac.Client(url=url).auth.userpass.login(username="alice", password="pw-new", mount_point="people"))
client.sys.tune_auth_method(path="people", token_type="default-batch")
check("a mount's tuned token_type reads back", client.sys.read_auth_method_tuning(path="people")["data"]["token_type"] == "default-batch")
batch_login = hvac.Client(url=url).auth.userpass.login(username="alice", password="pw-new", mount_point="people")["auth"]
check("a default-batch mount issues batch tokens", batch_login["token_type"] == "batch" and batch_login["client_token"].startswith("hvb."))
client.sys.tune_auth_method(path="people", token_type="default-service")

client.sys.enable_auth_method(method_type="approle")
client.auth.approle.create_or_update_approle(role_name="web", token_policies=["reader"], secret_id_ttl="10m", token_ttl="20m")
check("roles are listed", client.auth.approle.list_roles()["data"]["keys"] == ["web"])
role_id = client.auth.approle.read_role_id(role_name="web")["data"]["role_id"]
secret = client.auth.approle.generate_secret_id(role_name="web", metadata={"tier": "frontend"})["data"]
check("a secret-id has an accessor and the role's TTL", secret["secret_id_accessor"] and secret["secret_id_ttl"] == 600)
machine = hvac.Client(url=url)
login = machine.auth.approle.login(role_id=role_id, secret_id=secret["secret_id"])
check("approle login sets the client's token", machine.token == login["auth"]["client_token"])
check("the login carries the role's TTL and the secret-id's metadata", login["auth"]["lease_duration"] == 1200 and login["auth"]["metadata"] == {"role_name": "web", "tier": "frontend"})
check("the machine reads a secret", machine.secrets.kv.v2.read_secret_version(path="app/two", mount_point="kv2")["data"]["data"] == {"password": "x"})
check("read_secret_id shows its metadata", client.auth.approle.read_secret_id(role_name="web", secret_id=secret["secret_id"])["data"]["metadata"] == {"tier": "frontend"})
check("the accessors are listed", client.auth.approle.list_secret_id_accessors(role_name="web")["data"]["keys"] == [secret["secret_id_accessor"]])
check("read by accessor", client.auth.approle.read_secret_id_accessor(role_name="web", secret_id_accessor=secret["secret_id_accessor"])["data"]["secret_id_ttl"] == 600)
client.auth.approle.destroy_secret_id_accessor(role_name="web", secret_id_accessor=secret["secret_id_accessor"])
raises("a destroyed secret-id never logs in", exceptions.InvalidRequest, lambda: hvac.Client(url=url).auth.approle.login(role_id=role_id, secret_id=secret["secret_id"]), "invalid role or secret ID")
custom = client.auth.approle.create_custom_secret_id(role_name="web", secret_id="pushed-secret")["data"]
check("a custom secret-id logs in", "auth" in hvac.Client(url=url).auth.approle.login(role_id=role_id, secret_id="pushed-secret") and custom["secret_id"] == "pushed-secret")
# A role's operator under a policy that grants the roles' tree but denies one role in it.
client.auth.approle.create_or_update_approle(role_name="vault-admin", token_policies=["reader"])
client.auth.approle.generate_secret_id(role_name="vault-admin")
client.sys.create_or_update_policy(name="approle-operator", policy='path "auth/approle/role/*" {\n  capabilities = ["read", "list", "update"]\n}\npath "auth/approle/role/vault-admin/*" {\n  capabilities = ["deny"]\n}\npath "identity/entity/id/*" {\n  capabilities = ["list", "read"]\n}\n')
operator = hvac.Client(url=url, token=client.auth.token.create(policies=["approle-operator"])["auth"]["client_token"])
check("the operator lists its role's accessors", len(operator.auth.approle.list_secret_id_accessors(role_name="web")["data"]["keys"]) == 1)
raises("LIST under the denied role is refused", exceptions.Forbidden, lambda: operator.auth.approle.list_secret_id_accessors(role_name="vault-admin"))
raises("and so is its role id", exceptions.Forbidden, lambda: operator.auth.approle.read_role_id(role_name="vault-admin"))
check("identity entities list (LIST identity/entity/id)", len(operator.secrets.identity.list_entities()["data"]["keys"]) >= 1)

client.sys.disable_auth_method(path="approle")
raises("disabling the method revokes its tokens", exceptions.Forbidden, lambda: machine.auth.token.lookup_self())

# The article's Step 2 and its Python example: a pod logs in with its service-account JWT.
client.sys.enable_auth_method(method_type="kubernetes")
client.auth.kubernetes.configure(kubernetes_host=os.environ["COFFER_K8S_HOST"], kubernetes_ca_cert=os.environ["COFFER_K8S_CA"], token_reviewer_jwt=os.environ["COFFER_K8S_REVIEWER_JWT"])
client.auth.kubernetes.create_role(name="my-app-role", bound_service_account_names=["my-app"], bound_service_account_namespaces=["production"], policies=["app-policy"], ttl="1h")
client.sys.create_or_update_policy(name="app-policy", policy='path "kv2/data/app/*" {\n  capabilities = ["read"]\n}')
pod = hvac.Client(url=url)
k8s_login = pod.auth.kubernetes.login(role="my-app-role", jwt=os.environ["COFFER_K8S_JWT"], mount_point="kubernetes")
check("the article's kubernetes login through hvac", pod.token == k8s_login["auth"]["client_token"] and k8s_login["auth"]["lease_duration"] == 3600)
check("the pod reads its secret", pod.secrets.kv.v2.read_secret_version(path="app/two", mount_point="kv2")["data"]["data"] == {"password": "x"})
raises("a role it is not bound to refuses it", exceptions.InvalidRequest, lambda: hvac.Client(url=url).auth.kubernetes.login(role="nope", jwt=os.environ["COFFER_K8S_JWT"]), "invalid role name")

# A CI job logs in with the JWT its platform signed; the keys come from the provider's JWKS.
# No real provider is reachable: COFFER_IDP_* name a local stand-in (see hvac.test.ts).
client.sys.enable_auth_method(method_type="jwt")
client.auth.jwt.configure(jwks_url=os.environ["COFFER_IDP_JWKS"], jwks_ca_pem=os.environ["COFFER_IDP_CA"], bound_issuer=os.environ["COFFER_IDP_ISSUER"])
client.auth.jwt.create_role(name="ci", user_claim="sub", allowed_redirect_uris=[], role_type="jwt", bound_audiences=["coffer"], bound_claims={"project": ["web", "api"]}, claim_mappings={"ref": "git_ref"}, token_policies=["app-policy"], token_ttl="10m")
job = hvac.Client(url=url)
jwt_login = job.auth.jwt.jwt_login(role="ci", jwt=os.environ["COFFER_IDP_JWT"])
job.token = jwt_login["auth"]["client_token"]
check("a JWT login through hvac", jwt_login["auth"]["lease_duration"] == 600 and jwt_login["auth"]["metadata"] == {"git_ref": "main", "role": "ci"})
check("the job reads its secret", job.secrets.kv.v2.read_secret_version(path="app/two", mount_point="kv2")["data"]["data"] == {"password": "x"})
check("jwt role reads back", client.auth.jwt.read_role(name="ci")["data"]["bound_claims"] == {"project": ["web", "api"]})
raises("a JWT for another audience never logs in", exceptions.InvalidRequest, lambda: hvac.Client(url=url).auth.jwt.jwt_login(role="ci", jwt=os.environ["COFFER_IDP_OTHER_AUD_JWT"]), "invalid audience")

# A person logs in through the provider in a browser: hvac asks for the URL, the "browser"
# (requests, here) follows it, and hvac hands the code and state back.
import requests
from urllib.parse import parse_qs, urlparse
client.sys.enable_auth_method(method_type="oidc")
client.auth.oidc.configure(oidc_discovery_url=os.environ["COFFER_IDP_ISSUER"], oidc_discovery_ca_pem=os.environ["COFFER_IDP_CA"], oidc_client_id=os.environ["COFFER_IDP_CLIENT_ID"], oidc_client_secret=os.environ["COFFER_IDP_CLIENT_SECRET"])
client.auth.oidc.create_role(name="people", user_claim="email", allowed_redirect_uris=["http://localhost:8250/oidc/callback"], groups_claim="groups", token_policies=["app-policy"])
started = hvac.Client(url=url).auth.oidc.oidc_authorization_url_request(role="people", redirect_uri="http://localhost:8250/oidc/callback")
auth_url = started["data"]["auth_url"]
ca_file = os.environ["COFFER_IDP_CA_FILE"]
back = requests.get(auth_url, verify=ca_file, allow_redirects=False).headers["Location"]
q = parse_qs(urlparse(back).query)
person = hvac.Client(url=url)
done = person.auth.oidc.oidc_callback(state=q["state"][0], nonce="", code=q["code"][0])
check("an OIDC login through hvac's auth_url and callback", done["auth"]["policies"] == ["app-policy", "default"] and done["auth"]["metadata"] == {"role": "people"})

# A machine logs in with its TLS client certificate: hvac sends it in the handshake, with {name}.
tls_url = os.environ["COFFER_TLS_URL"]
server_ca = os.environ["COFFER_TLS_SERVER_CA"]
tls_admin = hvac.Client(url=tls_url, token=os.environ["COFFER_TLS_ROOT_TOKEN"], verify=server_ca)
tls_admin.sys.enable_auth_method(method_type="cert")
tls_admin.auth.cert.create_ca_certificate_role(name="web", certificate=os.environ["COFFER_CLIENT_CA"], allowed_common_names=["web.example.com"], token_policies=["default"], token_ttl="1h")
check("the cert entry reads back", tls_admin.auth.cert.read_ca_certificate_role(name="web")["data"]["allowed_common_names"] == ["web.example.com"])
machine = hvac.Client(url=tls_url, verify=server_ca)
cert_login = machine.auth.cert.login(name="web", cert_pem=os.environ["COFFER_CLIENT_CERT"], key_pem=os.environ["COFFER_CLIENT_KEY"])
check("a certificate login through hvac", machine.token == cert_login["auth"]["client_token"] and cert_login["auth"]["metadata"]["common_name"] == "web.example.com")
check("its token looks itself up", machine.auth.token.lookup_self()["data"]["display_name"] == "cert-web")

# Audit devices as hvac's own audit tests use them: options {"path": ...}; a bool option is stored as Vault stores it ("0").
audit_log = os.path.join(os.environ["COFFER_TMP"], "hvac-audit.log")
check("no audit device yet", "tmpfile/" not in client.sys.list_enabled_audit_devices()["data"])
client.sys.enable_audit_device("file", options={"path": audit_log, "log_raw": False}, path="tmpfile", description="hvac")
devices = client.sys.list_enabled_audit_devices()["data"]
check("the device is listed under its path", devices["tmpfile/"]["type"] == "file" and devices["tmpfile/"]["options"] == {"path": audit_log, "log_raw": "0"})
raises("enabling it twice", exceptions.InvalidRequest, lambda: client.sys.enable_audit_device("file", options={"path": audit_log}, path="tmpfile"), "path already in use")
hashed = client.sys.calculate_hash(path="tmpfile", input_to_hash="hvac-secret")["data"]["hash"]
check("calculate_hash answers an hmac-sha256 value", hashed.startswith("hmac-sha256:"))
kv.create_or_update_secret(path="audited", secret={"password": "hvac-secret"}, mount_point="kv2")
with open(audit_log) as f:
    text = f.read()
check("the write is in the log, its value only as that hash", hashed in text and "hvac-secret" not in text)
raises("hashing with an unknown device", exceptions.InvalidRequest, lambda: client.sys.calculate_hash(path="nosuch", input_to_hash="x"), "unknown audit backend")
client.sys.disable_audit_device("tmpfile")
check("disabled", "tmpfile/" not in client.sys.list_enabled_audit_devices()["data"])

# Response wrapping as hvac's users do it: wrap_ttl on read, write and token create; sys.unwrap.
kv.create_or_update_secret(path="wrapped", secret={"password": "s3cret"}, mount_point="kv2")
wrapped = client.read("kv2/data/wrapped", wrap_ttl="60s")
check("a wrapped read answers only a wrapping token", wrapped["data"] is None and wrapped["wrap_info"]["ttl"] == 60 and wrapped["wrap_info"]["creation_path"] == "kv2/data/wrapped")
wrapping_token = wrapped["wrap_info"]["token"]
unwrapped = client.sys.unwrap(wrapping_token)
check("sys.unwrap(token) answers the read", unwrapped["data"]["data"]["password"] == "s3cret")
raises("a second unwrap", exceptions.InvalidRequest, lambda: client.sys.unwrap(wrapping_token), "wrapping token is not valid or does not exist")
made = client.auth.token.create(policies=["default"], wrap_ttl="2m")
check("a wrapped token create names the token it wraps", made["wrap_info"]["wrapped_accessor"] != "" and made["auth"] is None)
holder = hvac.Client(url=url, token=made["wrap_info"]["token"])
raises("a wrapping token reads nothing", exceptions.Forbidden, lambda: holder.read("kv2/data/wrapped"))
inner = holder.sys.unwrap()
check("the wrapping token unwraps itself to the created token", inner["auth"]["accessor"] == made["wrap_info"]["wrapped_accessor"])
check("and that token works", hvac.Client(url=url, token=inner["auth"]["client_token"]).is_authenticated())
data_wrap = client.write("sys/wrapping/wrap", wrap_ttl=300, zip="zap")
check("sys/wrapping/wrap with a numeric wrap_ttl", client.sys.unwrap(data_wrap["wrap_info"]["token"])["data"] == {"zip": "zap"})

# Root token generation and rekey, with hvac's own calls. The server was initialised with one share.
import base64

unseal_key = os.environ["COFFER_UNSEAL_KEY"]
otp = "B" * 28
check("no root generation at first", client.sys.read_root_generation_progress()["started"] is False)
attempt = client.sys.start_root_token_generation(otp=otp)
check("start_root_token_generation(otp=...) starts one", attempt["started"] and attempt["required"] == 1)
anonymous = hvac.Client(url=url)
raises("an unauthenticated cancel is refused", exceptions.Forbidden, lambda: anonymous.sys.cancel_root_generation())
check("and the attempt is still there", client.sys.read_root_generation_progress()["nonce"] == attempt["nonce"])
done = client.sys.generate_root(key=unseal_key, nonce=attempt["nonce"])
check("generate_root at the threshold completes", done["complete"] and done["encoded_token"] != "")
encoded = base64.b64decode(done["encoded_token"] + "=" * (-len(done["encoded_token"]) % 4))
new_root = bytes(a ^ b for a, b in zip(encoded, otp.encode())).decode()
check("the decoded token is a root token", hvac.Client(url=url, token=new_root).lookup_token()["data"]["policies"] == ["root"])
client.sys.start_root_token_generation(otp=otp)
client.sys.cancel_root_generation()
check("cancel_root_generation with a token ends the attempt", client.sys.read_root_generation_progress()["started"] is False)

started = client.sys.start_rekey(secret_shares=1, secret_threshold=1)
check("start_rekey answers the nonce", started["started"] and started["nonce"] != "")
raises("an unauthenticated cancel_rekey is refused", exceptions.Forbidden, lambda: anonymous.sys.cancel_rekey())
client.sys.cancel_rekey()
check("cancel_rekey with a token ends it", client.sys.read_rekey_progress()["started"] is False)
started = client.sys.start_rekey(secret_shares=1, secret_threshold=1, require_verification=True)
result = client.sys.rekey_multi([unseal_key], nonce=started["nonce"])
check("rekey_multi completes, verification pending", result["complete"] and result["verification_required"] and len(result["keys"]) == 1)
new_key = result["keys"][0]
check("read_rekey_verify_progress names the verification nonce", client.sys.read_rekey_verify_progress()["nonce"] == result["verification_nonce"])
restarted = client.sys.cancel_rekey_verify()
check("cancel_rekey_verify answers a new nonce", restarted["nonce"] not in ("", result["verification_nonce"]))
verified = client.sys.rekey_verify_multi([new_key], nonce=restarted["nonce"])
check("rekey_verify_multi puts the new key in force", verified["complete"])
client.sys.seal()
raises("the old key no longer unseals", exceptions.InvalidRequest, lambda: client.sys.submit_unseal_key(unseal_key), "do not reconstruct")
check("the new key does", client.sys.submit_unseal_key(new_key)["sealed"] is False)
check("and the data is there", kv.read_secret_version(path="wrapped", mount_point="kv2")["data"]["data"]["password"] == "s3cret")

# Snapshots with hvac's raft calls: take one, change a secret, restore it, and the change is gone.
snap = client.sys.take_raft_snapshot()
snapshot_bytes = snap.content
check("take_raft_snapshot answers the snapshot file", snap.status_code == 200 and snapshot_bytes.startswith(b"COFFER-SNAPSHOT\n"))
kv.create_or_update_secret(path="wrapped", secret={"password": "changed"}, mount_point="kv2")
restored = client.sys.restore_raft_snapshot(snapshot_bytes)
check("restore_raft_snapshot answers 204", restored.status_code == 204)
check("the secret is as it was in the snapshot", kv.read_secret_version(path="wrapped", mount_point="kv2")["data"]["data"]["password"] == "s3cret")
raises("a truncated snapshot is refused", exceptions.InvalidRequest, lambda: client.sys.force_restore_raft_snapshot(snapshot_bytes[:-10]), "corrupted or truncated")

print("%d checks passed" % checks)
sys.exit(0)
