"""A real OpenID Connect provider on the loopback for the sign-in tests: npm's oidc-provider,
run by tests/oidc/provider.mjs, with its own signing keys. It registers the service twice, as
NHS CIS2 does (private_key_jwt, our keys read from our JWKS route) and as Entra ID does (a
client secret). Its token endpoint can be told to hand back a spoiled ID token once
(`spoiled_id_token`), for the refusal tests.

The fixtures here start it once per test session, beside a live server of the service (which
the provider calls for our keys and for back-channel logout).
"""

import datetime
import json
import re
import shutil
import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from joserfc.jwk import RSAKey

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "oidc" / "provider.mjs"
ENTRA_SECRET = "entra-client-secret-for-tests-only"
# The provider's accounts: subject -> email address.
ACCOUNTS = {
    "cis2-uid-1001": "cis2.staff@nhs.example",
    "entra-oid-2002": "entra.staff@nhs.example",
    "cis2-uid-9009": "nobody@nhs.example",
}
TEST_CLIENT_ORIGIN = "http://testserver"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def new_pem(path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def new_certificate(key_pem: Path, path: Path) -> Path:
    """A self-signed certificate for the key, as an ICB uploads one to its Entra ID app."""
    key = serialization.load_pem_private_key(key_pem.read_bytes(), password=None)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dsr test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def public_jwk(pem: Path) -> dict:
    key = RSAKey.import_key(pem.read_bytes())
    return {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig", "alg": "RS256"}


def private_jwk(pem: Path) -> dict:
    key = RSAKey.import_key(pem.read_bytes())
    return {**key.as_dict(private=True), "kid": key.thumbprint(), "use": "sig", "alg": "RS256"}


@dataclass
class RunningProvider:
    issuer: str
    process: subprocess.Popen
    log: Path
    signing_pem: Path
    clients: list = field(default_factory=list)

    def spoil_next_id_token(self, fault: str) -> None:
        """Make the token endpoint's next answer carry a spoiled ID token (tests/oidc/provider.mjs
        lists the faults: "audience", "expired", "foreign-key", "altered"); "" clears it."""
        answer = requests.post(
            f"{self.issuer}/test-only/next-id-token", data={"fault": fault}, timeout=5
        )
        assert answer.status_code == 204, answer.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _clients(origins: list[str], live_origin: str, certificate_key: Path) -> list[dict]:
    def returns(name: str) -> list[str]:
        return [f"{origin}/accounts/sign-in/nhs/{name}/return/" for origin in origins]

    def back_channel(name: str) -> str:
        return f"{live_origin}/accounts/oidc/{name}/back-channel-logout/"

    return [
        {
            "client_id": "dsr-cis2",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "jwks_uri": f"{live_origin}/accounts/oidc/jwks.json",
            "redirect_uris": returns("cis2"),
            "backchannel_logout_uri": back_channel("cis2"),
            "backchannel_logout_session_required": True,
            "post_logout_redirect_uris": [f"{live_origin}/"],
        },
        {
            "client_id": "dsr-entra",
            "client_secret": ENTRA_SECRET,
            "token_endpoint_auth_method": "client_secret_post",
            "redirect_uris": returns("entra"),
            "backchannel_logout_uri": back_channel("entra"),
            "backchannel_logout_session_required": True,
        },
        {
            # Entra ID with a certificate: the provider holds the certificate's public key.
            "client_id": "dsr-entra-certificate",
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "jwks": {"keys": [public_jwk(certificate_key)]},
            "redirect_uris": returns("entra"),
        },
    ]


@contextmanager
def provider_running(
    workdir: Path,
    *,
    live_origin: str,
    signing_pem: Path,
    certificate_key: Path,
    id_token_ttl: int = 3600,
):
    """Start tests/oidc/provider.mjs on a free loopback port; stop it afterwards."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed for the identity provider tests (apt-get install nodejs).")
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "port": port,
        "issuer": issuer,
        "jwks": {"keys": [private_jwk(signing_pem)]},
        "clients": _clients([TEST_CLIENT_ORIGIN, live_origin], live_origin, certificate_key),
        "accounts": {sub: {"email": email, "name": sub} for sub, email in ACCOUNTS.items()},
        "idTokenTtl": id_token_ttl,
    }
    config_file = workdir / f"provider-{port}.json"
    config_file.write_text(json.dumps(config))
    log = workdir / f"provider-{port}.log"
    process = subprocess.Popen(  # noqa: S603  (our own script, fixed arguments)
        [node, str(SCRIPT), str(config_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    line = process.stdout.readline()
    if not line.startswith("listening"):
        process.kill()
        pytest.fail(f"the test identity provider did not start: {log.read_text()[-2000:]}")
    running = RunningProvider(issuer, process, log, signing_pem, config["clients"])
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def provider_keys(tmp_path_factory):
    """The provider's signing key, and the service's private_key_jwt key."""
    folder = tmp_path_factory.mktemp("oidc-keys")
    entra_key = new_pem(folder / "entra-key.pem")
    return {
        "provider": new_pem(folder / "provider.pem"),
        "service": new_pem(folder / "service.pem"),
        "attacker": new_pem(folder / "attacker.pem"),
        "entra_key": entra_key,
        "entra_certificate": new_certificate(entra_key, folder / "entra-certificate.pem"),
    }


@pytest.fixture(scope="session")
def service_server(django_db_setup):
    """The service on a loopback port of its own, for the whole session: the provider reads our
    keys from it (private_key_jwt) and posts back-channel logout tokens to it, and the browser
    tests drive it. pytest-django's `live_server` would do, but it makes every test that uses it
    empty the database afterwards; here only the tests whose server-side requests read or write
    the database ask for that (`transactional_db`)."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def identity_provider(service_server, provider_keys, tmp_path_factory):
    with provider_running(
        tmp_path_factory.mktemp("oidc"),
        live_origin=service_server.url,
        signing_pem=provider_keys["provider"],
        certificate_key=provider_keys["entra_key"],
    ) as running:
        yield running


@pytest.fixture
def spoiled_id_token(nhs_identity):
    """Set the provider's next ID token to be spoiled (`spoiled_id_token("expired")`); a fault
    the test did not use is cleared afterwards, so the session's provider stays honest."""
    yield nhs_identity.spoil_next_id_token
    nhs_identity.spoil_next_id_token("")


def provider_settings(issuer: str, **overrides) -> dict:
    return {
        "cis2": {
            "kind": "cis2",
            "label": "NHS Care Identity (smartcard or authenticator)",
            "issuer": issuer,
            "client_id": "dsr-cis2",
            "min_assurance": 2,
            **overrides.get("cis2", {}),
        },
        "entra": {
            "kind": "entra",
            "label": "NHSmail (Microsoft)",
            "issuer": issuer,
            "client_id": "dsr-entra",
            "client_secret": ENTRA_SECRET,
            **overrides.get("entra", {}),
        },
    }


@pytest.fixture
def nhs_identity(settings, identity_provider, provider_keys):
    """The service set up for both providers, against the running test provider."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    settings.DSR_IDENTITY_PROVIDERS = provider_settings(identity_provider.issuer)
    settings.DSR_OIDC_SIGNING_KEY_FILES = [str(provider_keys["service"])]
    return identity_provider


def sign_in_at_provider(
    http: requests.Session, authorize_url: str, sub: str, *, assurance: str = "", amr: str = ""
) -> str:
    """Go through the provider's sign-in as a person would; return where it sends them back
    (our return route, with the code and state)."""
    answer = http.get(authorize_url, allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    form_url = urljoin(authorize_url, answer.headers["Location"])
    assert "/interaction/" in form_url, form_url
    answer = http.post(
        form_url, data={"sub": sub, "assurance": assurance, "amr": amr}, allow_redirects=False
    )
    assert answer.status_code in (302, 303), answer.text[:500]
    answer = http.get(urljoin(form_url, answer.headers["Location"]), allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    return answer.headers["Location"]


def code_and_state(return_url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(return_url).query).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def end_provider_session(http: requests.Session, issuer: str) -> None:
    """Sign out at the provider (its RP-initiated logout page, "Yes, sign me out"): it then
    sends a back-channel logout token to every service the session signed in to."""
    page = http.get(f"{issuer}/session/end")
    assert page.status_code == 200, page.text[:500]
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text).group(1)
    done = http.post(f"{issuer}/session/end/confirm", data={"xsrf": xsrf, "logout": "yes"})
    assert done.status_code == 200, done.text[:500]
