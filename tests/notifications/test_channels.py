"""Channels from the settings: log by default, e-mail when configured, a clear error at start when a name
is unknown or the e-mail channel lacks its server or sender; the e-mail as composed; STARTTLS and
implicit TLS with a login against a real SMTP server."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from duban.errors import InvalidInput
from duban.notifications.channels import (
    FACTORIES,
    LogChannel,
    OutgoingMessage,
    SmtpChannel,
    Undeliverable,
    channels_from_settings,
)
from duban.platform import Platform
from duban.runtime import free_port
from duban.settings import Settings
from mailserver import SmtpServer

REPO = Path(__file__).resolve().parent.parent.parent
EMAIL = dict(notify_channels=("log", "email"), smtp_host="smtp.example.gov.cn", smtp_sender="duban@example.gov.cn")


def message(**changes: object) -> OutgoingMessage:
    values = dict(notification_id="n-1", tenant="qingjiangpu", recipient="handler", display_name="承办人",
                  email="handler@qingjiangpu.duban.test", kind="reminder", title="【催办】反馈将于10月13日到期",
                  body="请于2026年10月13日前书面反馈。")
    values.update(changes)
    return OutgoingMessage(**values)


def test_the_default_is_the_log_channel() -> None:
    channels = channels_from_settings(Settings())
    assert list(channels) == ["log"] and isinstance(channels["log"], LogChannel)


def test_email_from_the_environment() -> None:
    settings = Settings.from_env({"DUBAN_NOTIFY_CHANNELS": "log, email", "DUBAN_SMTP_HOST": "smtp.example.gov.cn",
                                  "DUBAN_SMTP_PORT": "465", "DUBAN_SMTP_TLS": "tls",
                                  "DUBAN_SMTP_SENDER": "duban@example.gov.cn", "DUBAN_SMTP_USERNAME": "duban",
                                  "DUBAN_SMTP_PASSWORD": "secret"})
    assert settings.notify_channels == ("log", "email")
    smtp = channels_from_settings(settings)["email"]
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.host, smtp.port, smtp.tls, smtp.sender, smtp.username) == (
        "smtp.example.gov.cn", 465, "tls", "duban@example.gov.cn", "duban")
    assert list(channels_from_settings(settings.with_(notify_channels=("email", "email")))) == ["email"]
    assert channels_from_settings(settings.with_(notify_channels=())) == {}, "in-app only"


@pytest.mark.parametrize(("changes", "message_part"), [
    (dict(notify_channels=("log", "sms")), "unknown channels: sms"),
    (dict(EMAIL, smtp_host=""), "DUBAN_SMTP_HOST"),
    (dict(EMAIL, smtp_sender=""), "DUBAN_SMTP_SENDER"),
    (dict(EMAIL, smtp_sender="督查室"), "e-mail address"),
    (dict(EMAIL, smtp_tls="ssl"), "DUBAN_SMTP_TLS"),
    (dict(EMAIL, smtp_password="secret"), "DUBAN_SMTP_USERNAME"),
])
def test_a_bad_configuration_is_an_error_at_start(changes: dict, message_part: str) -> None:
    settings = Settings(tenants_file=REPO / "tenants" / "huaian.toml", policies_dir=REPO / "policies", **changes)
    with pytest.raises(InvalidInput, match=message_part):
        channels_from_settings(settings)
    with pytest.raises(InvalidInput, match=message_part):
        Platform(settings)


def test_every_registered_channel_names_itself() -> None:
    settings = Settings(**EMAIL)
    for name, factory in FACTORIES.items():
        assert factory(settings).name == name


def test_the_email_as_composed() -> None:
    smtp = SmtpChannel("127.0.0.1", 25, "duban@city.duban.test")
    mail = smtp.compose(message())
    assert mail["Subject"] == "【催办】反馈将于10月13日到期"
    assert "=?utf-8?" in mail.as_string(), "the subject is RFC 2047 encoded"
    assert mail["To"] == "承办人 <handler@qingjiangpu.duban.test>"
    assert mail["Message-ID"] == "<n-1.qingjiangpu@city.duban.test>", "the same for a copy sent again"
    assert mail.get_content().strip() == "请于2026年10月13日前书面反馈。"
    with pytest.raises(Undeliverable, match="没有登记电子邮箱"):
        smtp.compose(message(email=None))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def _login_ok(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"duban", b"s3cret"), handled=False)


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """An SMTP server that wants a login, over STARTTLS or implicit TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    if request.param == "starttls":
        options = dict(tls_context=context, require_starttls=True)
    else:  # aiosmtpd only counts STARTTLS as TLS for its login check; the socket is TLS from the start here
        options = dict(ssl_context=context, auth_require_tls=False)
    server = SmtpServer(free_port(), authenticator=_login_ok, auth_required=True, **options)
    server.mode = request.param
    server.start()
    yield server
    server.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # implicit TLS: it is TLS
async def test_tls_modes_with_a_login(tls_server: SmtpServer, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))

    def channel(password: str, context: ssl.SSLContext | None = trust) -> SmtpChannel:
        return SmtpChannel("127.0.0.1", tls_server.port, "duban@city.duban.test", tls=tls_server.mode,
                           username="duban", password=password, tls_context=context, timeout=5)

    await channel("s3cret").send(message())
    [mail] = tls_server.mailbox.messages()
    assert mail["Subject"] == "【催办】反馈将于10月13日到期"
    with pytest.raises(smtplib.SMTPAuthenticationError):
        await channel("wrong").send(message())
    with pytest.raises(ssl.SSLCertVerificationError):
        await channel("s3cret", context=None).send(message())  # the system CAs do not know this server
    assert len(tls_server.mailbox.received) == 1
