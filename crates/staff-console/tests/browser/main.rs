//! The console in a real headless Chromium, driven over WebDriver: log in, watch a new
//! message arrive live, take over, reply (double-clicking Send), see the ticks arrive,
//! hand back, snooze a notification. The tests also take the screenshots in `docs/console/`
//! when `CONSOLE_SCREENSHOTS_DIR` names a directory.
//!
//! They need `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`;
//! `CHROMEDRIVER` names another driver).

#![expect(clippy::expect_used, reason = "tests fail loudly")]

#[path = "../it/helpers.rs"]
#[expect(dead_code, reason = "the HTTP tests' helpers; the browser tests use some")]
mod helpers;
mod seed;
mod webdriver;

use std::time::Duration;

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use store::StaffRole;

use crate::helpers::{Console, PASSWORD};
use crate::webdriver::Browser;

const WAIT: Duration = Duration::from_secs(15);

async fn log_in(browser: &Browser, console: &Console, email: &str) {
    let c = &browser.client;
    c.goto(&format!("{}/login", console.base)).await.expect("login page");
    c.find(Locator::Css("input[name=email]")).await.expect("email").send_keys(email).await.expect("typed");
    c.find(Locator::Css("input[name=password]"))
        .await
        .expect("password")
        .send_keys(PASSWORD)
        .await
        .expect("typed");
    c.find(Locator::Css("button[type=submit]")).await.expect("button").click().await.expect("clicked");
    c.wait().at_most(WAIT).for_element(Locator::Css("h1")).await.expect("a page after login");
    let url = c.current_url().await.expect("url");
    assert_eq!(url.path(), "/inbox", "login lands on the inbox");
}

async fn wait_for(browser: &Browser, xpath: &str) -> fantoccini::elements::Element {
    browser
        .client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{xpath} never appeared: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_watch_a_message_arrive_take_over_reply_once_see_ticks_and_hand_back() {
    let console = Console::start().await;
    console.user("sara@example.com", StaffRole::Agent).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    log_in(&browser, &console, "sara@example.com").await;

    c.goto(&format!("{}/inbox?filter=all", console.base)).await.expect("inbox");
    wait_for(&browser, "//body[@data-live='connected']").await;
    console.wait_until_listening().await;
    console.customer_says("971501112233", Some("Layla Haddad"), "Hello, is anyone there?").await;
    let row =
        wait_for(&browser, "//a[.//span[contains(@class,'name') and contains(., 'Layla Haddad')]]").await;
    row.click().await.expect("open the conversation");

    wait_for(&browser, "//button[normalize-space()='Take over']").await.click().await.expect("take over");
    wait_for(&browser, "//span[contains(@class,'held') and contains(., 'Held by you')]").await;

    let reply = "Hello Layla, Sara here from Al Ain Business Center. How can I help?";
    c.find(Locator::Css("#reply-body")).await.expect("reply box").send_keys(reply).await.expect("typed");
    let send = c.find(Locator::Css("form.reply button[type=submit]")).await.expect("send");
    let double_click = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement { element: send, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    c.perform_actions(double_click).await.expect("double click");
    let sent =
        wait_for(&browser, &format!("//li[contains(@class,'staff')]//p[contains(., '{reply}')]")).await;
    assert!(sent.text().await.expect("text").contains("Sara here"));
    let rows = "SELECT count(*) AS n FROM outbound_message_log WHERE author_staff_id IS NOT NULL";
    assert_eq!(console.count(rows).await, 1, "a double click sends one reply");

    wait_for(&browser, "//body[@data-live='connected']").await;
    seed::delivered(&console, reply).await;
    wait_for(
        &browser,
        "//li[contains(@class,'staff')]//span[contains(@class,'ticks') and contains(@class,'delivered')]",
    )
    .await;

    wait_for(&browser, "//button[normalize-space()='Hand back to the bot']")
        .await
        .click()
        .await
        .expect("hand back");
    wait_for(&browser, "//span[contains(@class,'held') and contains(., 'The bot is answering')]").await;
    assert_eq!(console.count("SELECT count(*) AS n FROM conversation WHERE held_by IS NOT NULL").await, 0);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_snoozed_notification_leaves_the_list_and_the_pages_are_pictured() {
    let console = Console::start().await;
    console.user("sara@example.com", StaffRole::Agent).await;
    let seeded = seed::showcase(&console).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    log_in(&browser, &console, "sara@example.com").await;

    for (name, path) in [
        ("inbox", "/inbox?filter=all".to_owned()),
        ("conversation-english", format!("/conversations/{}", seeded.english)),
        ("conversation-arabic", format!("/conversations/{}", seeded.arabic)),
        ("notifications", "/notifications".to_owned()),
        ("leads", "/leads".to_owned()),
    ] {
        c.goto(&format!("{}{path}", console.base)).await.expect("page");
        wait_for(&browser, "//main//h1").await;
        browser.screenshots(name).await;
    }
    c.goto(&format!("{}/conversations/{}", console.base, seeded.arabic)).await.expect("conversation");
    let arabic = wait_for(&browser, "//li[contains(@class,'customer')]//p[@dir='auto']").await;
    let direction = c
        .execute(
            "return getComputedStyle(arguments[0]).direction",
            vec![serde_json::to_value(&arabic).expect("el")],
        )
        .await
        .expect("style");
    assert_eq!(direction.as_str(), Some("rtl"), "Arabic renders right to left");

    c.goto(&format!("{}/notifications", console.base)).await.expect("notifications");
    let notice = format!("//li[contains(@class,'notice') and .//p[contains(., '{}')]]", seed::NOTICE_TITLE);
    wait_for(&browser, &notice).await;
    wait_for(&browser, &format!("{notice}//button[normalize-space()='Snooze 1 h']"))
        .await
        .click()
        .await
        .expect("snooze");
    wait_for(&browser, "//main//h1[normalize-space()='Notifications']").await;
    let left = c.find_all(Locator::XPath(&notice)).await.expect("find");
    assert!(left.is_empty(), "a snoozed notification leaves the list");
    let until = "SELECT count(*) AS n FROM notification WHERE snoozed_until > now() + interval '59 minutes'";
    assert_eq!(console.count(until).await, 1);
    browser.close().await;
}
