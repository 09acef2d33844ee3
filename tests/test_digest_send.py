"""Delivering the digest to a real SMTP server (aiosmtpd on 127.0.0.1): the message as a mail
client sees it, retries on 4xx, a connection dropped after DATA, refused logins, TLS certificate
checks, and the `newswatch digest` command (--output, --dry-run). Stories are marked sent only
when the server accepted the message."""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.config import load_config
from crawler.digest import deliver_digest
from crawler.digest.send import DeliveryError, build_message, send_message
from storage.records import RunStats
from storage.repository import Repository
from tests.dbfixtures import article_record
from tests.mailserver import run_mail_server

HOSTILE_TITLE = (
    'Casablanca-Settat <b>et</b> l\'Île-de-France <script>alert("x")</script>\nBcc: x@evil.test'
)
TEXT = (
    "Le conseil de la région Casablanca-Settat et la région Île-de-France ont signé mardi une "
    "feuille de route de coopération pour la période 2026-2028, centrée sur les transports "
    "urbains, la formation et l'attractivité économique des deux territoires, a annoncé le "
    "conseil régional dans un communiqué diffusé à l'issue de la réunion tenue à Casablanca."
)
SECOND = (
    "La province de Chefchaouen et la commune andalouse de Vejer de la Frontera ont célébré le "
    "vingtième anniversaire de leur jumelage par une semaine d'échanges entre artisans, élèves "
    "et associations, avec le soutien de l'agence andalouse de coopération internationale."
)


@pytest.fixture
def mail():
    with run_mail_server() as server:
        yield server


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("NEWSWATCH_CONFIG", "NEWSWATCH_DATABASE_URL", "NEWSWATCH_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def write_config(tmp_path: Path, db_url: str, port: int, extra: str = "") -> Path:
    path = tmp_path / "newswatch.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"

[digest]
to = ["veille@example.org", "equipe@example.org"]
from = "newswatch@example.org"
{extra}

[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
retries = 2
timeout = 5
""",
        encoding="utf-8",
    )
    return path


def store(db_url: str, title: str = HOSTILE_TITLE, text: str = TEXT, url: str = "") -> int:
    with Repository(db_url) as repository:
        outcome = repository.save_article(
            article_record(
                url or "https://lematin.ma/casablanca-settat-ile-de-france.html",
                text,
                title=title,
                published_at=dt.datetime(2026, 11, 18, 9, 30, tzinfo=dt.UTC),
                score=13.0,
                explanation={
                    "tier": "core",
                    "regions": ["Casablanca-Settat"],
                    "partners": ["Île-de-France"],
                    "groups": {"initiative": ["feuille de route"], "engagement": ["coopér*"]},
                },
            )
        )
    return outcome.article_id


def pending(db_url: str) -> int:
    with Repository(db_url) as repository:
        return repository.count_pending()[0]


def digests(db_url: str):
    with Repository(db_url) as repository:
        return repository.list_digests()


def test_digest_arrives_as_a_clean_multipart_message(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    config = load_config(
        write_config(tmp_path, sqlite_url, mail.port, 'subject = "{count} · {title}"')
    )
    result = deliver_digest(config, backoff=0)
    assert result.status == "sent"
    [received] = mail.messages
    assert received.sender == "newswatch@example.org"
    assert received.recipients == ["veille@example.org", "equipe@example.org"]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    # The title's newline could not open a header line: no Bcc, a one-line subject.
    assert message["Bcc"] is None
    assert "x@evil.test" not in str(message["To"])
    assert "\n" not in message["Subject"]
    assert message["Subject"].startswith("1 · Casablanca-Settat <b>et</b>")
    assert message["Auto-Submitted"] == "auto-generated"
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<script>" not in html
    assert "<b>et</b>" not in html
    assert "&lt;b&gt;et&lt;/b&gt;" in html
    assert 'href="https://lematin.ma/casablanca-settat-ile-de-france.html"' in html
    assert "Casablanca-Settat <b>et</b>" in text  # plain text shows the title as written
    assert "https://lematin.ma/casablanca-settat-ile-de-france.html" in text
    assert "*feuille de route*" in text
    # Recorded with its Message-ID, and the story is no longer pending.
    [record] = digests(sqlite_url)
    assert (record.status, record.stories) == ("sent", 1)
    assert record.message_id == message["Message-ID"].strip()
    assert pending(sqlite_url) == 0
    # Nothing new: the next digest sends nothing (send_empty is off).
    assert deliver_digest(config).status == "empty"
    assert len(mail.messages) == 1


def test_451_on_the_first_attempt_then_delivered_once(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    mail.faults.append("451")
    config = load_config(write_config(tmp_path, sqlite_url, mail.port))
    result = deliver_digest(config, backoff=0)
    assert result.status == "sent"
    assert result.delivery is not None
    assert result.delivery.attempts == 2
    assert mail.data_commands == 2
    assert len(mail.messages) == 1
    assert digests(sqlite_url)[0].attempts == 2
    assert pending(sqlite_url) == 0


def test_connection_dropped_after_data_keeps_stories_pending(env, tmp_path, sqlite_url, mail):
    first = store(sqlite_url)
    mail.faults.extend(["drop", "drop", "drop"])
    config = load_config(write_config(tmp_path, sqlite_url, mail.port))
    failed = deliver_digest(config, backoff=0)
    assert failed.status == "failed"
    assert "closed the connection" in (failed.error or "")
    assert mail.data_commands == 3  # one try and two retries, all dropped
    assert pending(sqlite_url) == 1
    # The next digest carries the story, with one more that arrived meanwhile; once each.
    second = store(sqlite_url, "Chefchaouen et Vejer fêtent vingt ans de jumelage", SECOND,
                   "https://lematin.ma/chefchaouen-vejer.html")  # fmt: skip
    sent = deliver_digest(config, backoff=0)
    assert sent.status == "sent"
    assert len(mail.messages) == 1
    html = mail.messages[0].message.get_body(("html",)).get_content()
    assert html.count('href="https://lematin.ma/casablanca-settat-ile-de-france.html"') == 1
    assert html.count('href="https://lematin.ma/chefchaouen-vejer.html"') == 1
    assert pending(sqlite_url) == 0
    records = digests(sqlite_url)
    assert [r.status for r in records] == ["sent", "failed"]
    assert sorted(sent.content.article_ids) == sorted([first, second])


def test_authentication_failure_is_clear_marks_nothing_and_hides_the_password(
    env, tmp_path, sqlite_url, caplog
):
    store(sqlite_url)
    env.setenv("NEWSWATCH_SMTP_PASSWORD", "wrong-Pa55word")
    with run_mail_server(password="right-Pa55word") as mail:
        config = load_config(
            write_config(tmp_path, sqlite_url, mail.port).parent / "newswatch.toml"
        )
        config = config.model_copy(
            update={"smtp": config.smtp.model_copy(update={"username": "veille"})}
        )
        with caplog.at_level(logging.DEBUG):
            result = deliver_digest(config, backoff=0)
        assert result.status == "refused"
        assert "refused the login of 'veille'" in (result.error or "")
        assert "NEWSWATCH_SMTP_PASSWORD" in (result.error or "")
        # One session (smtplib tries each mechanism the server offers); never retried.
        assert mail.logins == ["PLAIN veille", "LOGIN veille"]
        assert mail.messages == []
    assert pending(sqlite_url) == 1
    assert digests(sqlite_url)[0].status == "refused"
    assert "wrong-Pa55word" not in caplog.text
    assert "wrong-Pa55word" not in (result.error or "")
    assert "wrong-Pa55word" not in repr(config)
    assert "wrong-Pa55word" not in str(digests(sqlite_url))


def test_right_password_delivers(env, tmp_path, sqlite_url):
    store(sqlite_url)
    env.setenv("NEWSWATCH_SMTP_PASSWORD", "right-Pa55word")
    with run_mail_server(password="right-Pa55word") as mail:
        path = write_config(tmp_path, sqlite_url, mail.port)
        path.write_text(
            path.read_text().replace('security = "none"', 'security = "none"\nusername = "veille"')
        )
        assert deliver_digest(load_config(path), backoff=0).status == "sent"
        assert len(mail.messages) == 1


def test_permanent_refusal_is_not_retried(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    mail.faults.append("554")
    result = deliver_digest(load_config(write_config(tmp_path, sqlite_url, mail.port)), backoff=0)
    assert result.status == "refused"
    assert "554 5.7.1 Message refused by policy" in (result.error or "")
    assert mail.data_commands == 1
    assert pending(sqlite_url) == 1


def test_unreachable_server_is_retried_then_recorded(env, tmp_path, sqlite_url):
    store(sqlite_url)
    with run_mail_server() as mail:
        port = mail.port
    config = load_config(write_config(tmp_path, sqlite_url, port))  # the server is gone
    result = deliver_digest(config, backoff=0)
    assert result.status == "failed"
    assert "cannot reach the mail server 127.0.0.1" in (result.error or "")
    assert digests(sqlite_url)[0].attempts == 3
    assert pending(sqlite_url) == 1


def test_stopping_ends_the_retries(env, tmp_path, sqlite_url, mail):
    mail.faults.extend(["451", "451"])
    config = load_config(write_config(tmp_path, sqlite_url, mail.port))
    message = build_message(
        subject="s",
        sender="newswatch@example.org",
        recipients=["veille@example.org"],
        text="t",
        html="<p>t</p>",
        message_id="<x@example.org>",
        date=dt.datetime.now(dt.UTC),
    )
    stop = threading.Event()
    stop.set()
    with pytest.raises(DeliveryError, match="not retried: newswatch is stopping") as error:
        send_message(message, config.smtp, stop=stop, backoff=0)
    assert error.value.attempts == 1
    assert not error.value.permanent


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert, pem = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, pem)
    return context


def test_starttls_refuses_a_certificate_it_cannot_verify(env, tmp_path, sqlite_url):
    store(sqlite_url)
    with run_mail_server(tls_context=_self_signed(tmp_path)) as mail:
        path = write_config(tmp_path, sqlite_url, mail.port)
        path.write_text(path.read_text().replace('security = "none"', 'security = "starttls"'))
        result = deliver_digest(load_config(path), backoff=0)
        assert result.status == "refused"
        assert "certificate" in (result.error or "")
        assert mail.messages == []
    assert pending(sqlite_url) == 1


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_output_eml_and_html_write_without_sending_or_marking(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    write_config(tmp_path, sqlite_url, mail.port)
    result = cli("digest", "--output", "digest.eml")
    assert result.exit_code == 0, result.output
    assert "nothing sent" in result.output
    message = message_from_bytes((tmp_path / "digest.eml").read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert "veille@example.org" in message["To"]
    assert cli("digest", "--output", "digest.html").exit_code == 0
    assert (tmp_path / "digest.html").read_text().startswith("<!DOCTYPE html>")
    assert cli("digest", "--output", "digest.pdf").exit_code == 2
    assert mail.data_commands == 0
    assert digests(sqlite_url) == []
    assert pending(sqlite_url) == 1


def test_dry_run_prints_what_would_be_sent(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    write_config(tmp_path, sqlite_url, mail.port)
    result = cli("digest", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Subject: Coopération décentralisée" in result.output
    assert "To: veille@example.org, equipe@example.org" in result.output
    assert "Stories: 1 (1 articles)" in result.output
    assert "https://lematin.ma/casablanca-settat-ile-de-france.html" in result.output
    assert mail.data_commands == 0
    assert pending(sqlite_url) == 1


def test_digest_command_sends_or_explains(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    write_config(tmp_path, sqlite_url, mail.port)
    mail.faults.append("554")
    refused = cli("digest")
    assert refused.exit_code == 1
    assert "Error: digest #1 not sent" in refused.output
    assert "stay pending" in refused.output
    sent = cli("digest")
    assert sent.exit_code == 0, sent.output
    assert "Digest #2 sent: 1 stories (1 articles) to 2 recipients" in sent.output
    assert cli("digest").output.startswith("Nothing new to send")


def test_digest_without_recipients_is_a_config_error(env, tmp_path, sqlite_url):
    (tmp_path / "newswatch.toml").write_text(f'[database]\nurl = "{sqlite_url}"\n')
    result = cli("digest")
    assert result.exit_code == 2
    assert "[digest] to: no recipients" in result.output


def test_password_in_the_file_is_refused(env, tmp_path):
    (tmp_path / "newswatch.toml").write_text('[smtp]\npassword = "hunter2"\n')
    result = cli("digest", "--dry-run")
    assert result.exit_code == 2
    assert "[smtp] password: never read from the file" in result.output
    assert "NEWSWATCH_SMTP_PASSWORD" in result.output
    assert "hunter2" not in result.output


def test_status_shows_crawls_digests_pending_and_health(env, tmp_path, sqlite_url, mail):
    store(sqlite_url)
    write_config(tmp_path, sqlite_url, mail.port)
    with Repository(sqlite_url) as repository:
        for _ in range(3):
            run = repository.start_run(["lematin"])
            repository.finish_run(run, RunStats(pages_fetched=12), "ok", {"lematin": {}})
    mail.faults.append("554")
    assert cli("digest").exit_code == 1  # refused: the story stays pending
    table = cli("status")
    assert table.exit_code == 0, table.output
    assert "Daemon: not running" in table.output
    assert "Pending for the next digest: 1 stories (1 articles)" in table.output
    assert "refused (manual)" in table.output
    assert "lematin: no article found in its last 3 crawls" in table.output
    report = json.loads(cli("status", "--format", "json").output)
    assert report["daemon"] == {"running": False, "holder": None}
    assert [crawl["pages"] for crawl in report["crawls"]] == [12, 12, 12]
    assert report["digests"][0]["status"] == "refused"
    assert report["pending"] == {"stories": 1, "articles": 1}
    assert report["source_health"][0]["problem"] == "silent"
