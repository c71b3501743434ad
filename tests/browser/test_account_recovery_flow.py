"""Account recovery in a real browser: a reader registers in the widget, confirms her address from
the mailed link, forgets her password, resets it from the mailed link and logs in with the new one.

The mail is real: ``flask worker --drain`` runs against the live server's database with the console
transport (no MAIL_SERVER) and the links are read from what it prints, as a newcomer running
``make run`` would read them.
"""
import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, ROOT, thread_frame, wait_ready

NEW_PASSWORD = "a brand new pass phrase 42"
SEPARATOR = "-" * 72


def deliver(live_server) -> str:
    """Run the worker until nothing is due; what the console transport printed."""
    env = {**live_server.env, "MAIL_SERVER": ""}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "worker", "--drain"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def messages_to(output: str, address: str) -> list[str]:
    """The printed messages addressed to ``address`` (other tests' mail is printed too)."""
    blocks = [block.strip() for block in output.split(SEPARATOR)]
    return [block for block in blocks if re.search(rf"^To: .*{re.escape(address)}", block, re.M)]


def link_in(message: str, live_server, path: str) -> str:
    found = re.findall(re.escape(live_server.url + path) + r"\?token=[^\s<>\"]+", message)
    assert found, f"no {path} link on {live_server.url} in:\n{message}"
    return found[-1]


def test_register_confirm_forget_and_reset_in_the_widget(live_server, new_context, watch_console):
    key = live_server.unique("recover-")
    name = live_server.unique("claire")
    email = f"{name}@example.org"
    context = new_context()
    page = context.new_page()
    watch_console(page)
    page.goto(f"/demo/{key}?lang=fr")
    frame = wait_ready(page)

    # She registers in the (French) widget: she is asked to confirm her address.
    frame.locator("[data-act=show-register]").click()
    frame.locator("#cz-reg-username").fill(name)
    frame.locator("#cz-reg-email").fill(email)
    frame.locator("#cz-reg-password").fill(PASSWORD)
    frame.locator(".cz-register [type=submit]").click()
    expect(frame.locator(".cz-me-name")).to_have_text(name)
    notice = frame.locator(".cz-verify")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Merci de confirmer votre adresse e-mail")
    expect(frame.locator(".cz-verified")).to_be_hidden()
    api = live_server.login(name)
    assert api.user["email_verified"] is False and api.user["language"] == "fr"

    # "Send it again" queues a second link, and says so.
    notice.get_by_role("button").click()
    expect(notice.locator(".cz-verify-msg")).to_contain_text("Envoyé")

    # The mail is in her language; its link is on the public address and opens the /verify page.
    mails = messages_to(deliver(live_server), email)
    assert len(mails) == 2, mails
    assert all("Subject: Confirmez votre adresse e-mail" in mail for mail in mails)
    verify_link = link_in(mails[-1], live_server, "/verify")
    confirm_page = context.new_page()
    watch_console(confirm_page)
    confirm_page.goto(verify_link)
    confirm_page.get_by_role("button", name=re.compile("Confirm my address|Confirmer mon adresse")).click()
    expect(confirm_page.get_by_role("heading", name=re.compile("Address confirmed|Adresse confirmée"))) \
        .to_be_visible()
    assert live_server.login(name).user["email_verified"] is True

    # Back in the widget (the frame asks again when it gets the focus back): no more notice.
    page.bring_to_front()
    thread_frame(page).evaluate("window.dispatchEvent(new FocusEvent('focus'))")
    expect(notice).to_be_hidden()
    expect(frame.locator(".cz-verified")).to_be_visible()
    page.reload()
    frame = wait_ready(page)
    expect(frame.locator(".cz-verified")).to_be_visible()
    expect(frame.locator(".cz-verify")).to_be_hidden()

    # She logs out and has forgotten her password: the widget's form sends a reset link.
    frame.locator("[data-act=logout]").click()
    expect(frame.locator(".cz-login")).to_be_visible()
    frame.locator("[data-act=show-forgot]").click()
    forgot = frame.locator(".cz-forgot")
    expect(forgot.locator("input[name=email]")).to_be_focused()
    forgot.locator("input[name=email]").fill(email)
    forgot.locator("[type=submit]").click()
    expect(forgot.locator(".cz-forgot-done")).to_have_text(
        "Si un compte a cette adresse, un lien est en route. Regardez votre boîte de réception.")
    expect(forgot.locator("input[name=email]")).to_have_value("")

    # The same neutral answer for an address nobody has; no mail goes there.
    forgot.locator("input[name=email]").fill(f"nobody-{name}@example.org")
    forgot.locator("[type=submit]").click()
    expect(forgot.locator("input[name=email]")).to_have_value("")
    expect(forgot.locator(".cz-forgot-done")).to_contain_text("Si un compte a cette adresse")

    output = deliver(live_server)
    assert messages_to(output, f"nobody-{name}@example.org") == []
    resets = messages_to(output, email)
    assert len(resets) == 1, resets
    reset_link = link_in(resets[0], live_server, "/reset")

    # She opens the link on another device and chooses a new password there.
    phone = new_context().new_page()
    watch_console(phone)
    phone.goto(reset_link)
    for field in phone.locator("input[type=password]").all():
        field.fill(NEW_PASSWORD)
    phone.get_by_role("button", name=re.compile(
        "Save my new password|Enregistrer mon nouveau mot de passe")).click()
    expect(phone.get_by_role("heading", name=re.compile(
        "Your password was changed|Votre mot de passe a été modifié"))).to_be_visible()

    # The link works once.
    phone.goto(reset_link)
    expect(phone.locator("input[type=password]")).to_have_count(0)

    # In the widget the old password no longer works; the new one does.
    frame.locator("[data-act=show-login]").first.click()
    login = frame.locator(".cz-login")
    expect(login).to_be_visible()
    login.locator("input[name=login]").fill(name)
    login.locator("input[name=password]").fill(PASSWORD)
    login.locator("[type=submit]").click()
    expect(login.locator(".cz-error")).to_have_text("Nom d'utilisateur, adresse e-mail ou mot de passe incorrect.")
    login.locator("input[name=password]").fill(NEW_PASSWORD)
    login.locator("[type=submit]").click()
    expect(frame.locator(".cz-me-name")).to_have_text(name)
    expect(frame.locator(".cz-verified")).to_be_visible()

    # The only failed request is the refused log-in (401).
    assert [e for e in page.console_errors if "status of 401" not in e] == []
    assert confirm_page.console_errors == []


def test_login_page_links_to_the_reset_page(live_server, page):
    page.goto("/login?lang=fr")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    expect(page).to_have_url(re.compile(r"/reset(\?lang=fr)?$"))
    expect(page.locator("input[name=email]")).to_be_visible()
    assert page.console_errors == []
