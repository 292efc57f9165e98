"""The browser client on a 390×844 touch phone, in headless Chromium with touch emulation."""

from tests.browser_support import browser, gallery, open_page, register, server_url  # noqa: F401

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def tap_at(page, tx, ty):
    """Tap the canvas at map coordinates."""
    box = page.locator("#canvas").bounding_box()
    page.touchscreen.tap(box["x"] + tx / (16 / 9) * box["width"], box["y"] + ty * box["height"])


def me(page):
    return page.evaluate("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)")


def visible_without_scrolling(page, selector):
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] + box["width"] <= size["width"]


def test_play_is_in_view_without_scrolling_whichever_way_the_phone_is_held(browser, server_url):
    """At 844x390 the landing page's Play was below the fold (issue 24)."""
    for size in ({"width": 844, "height": 390}, {"width": 390, "height": 844}):
        context, page = open_page(browser, server_url, **{**PHONE, "viewport": size})
        try:
            assert visible_without_scrolling(page, "#register-form button")
            register(page)
            assert visible_without_scrolling(page, "#play") and visible_without_scrolling(page, "#practice")
            gallery(page, f"phone-lobby-{size['width']}x{size['height']}")
        finally:
            context.close()


def test_a_phone_plays_full_screen_with_taps_skill_buttons_and_a_chat_button(browser, server_url):
    context, page = open_page(browser, server_url, **PHONE)
    try:
        register(page)
        assert page.is_visible(".controls-help.touch-only") and not page.is_visible(".controls-help.mouse-only")
        page.tap("#practice")
        page.wait_for_selector("body[data-view=game]")
        page.wait_for_function("window.arena.lastState !== null")

        # Upright: the arena as wide as the screen, readable names and balls, and the controls in the
        # room below it, big enough for a thumb.
        arena = page.locator("#canvas").bounding_box()
        assert arena["width"] >= 0.97 * 390
        assert page.evaluate("window.arena.renderer.labelCssPx") >= 13
        for button in ("#skill-fireball", "#skill-blink", "#chat-toggle"):
            box = page.locator(button).bounding_box()
            assert box["height"] >= 44 and box["y"] >= arena["y"] + arena["height"]

        # A tap moves.
        x, y = me(page)[1:3]
        target = 0.2 if x > 0.9 else 1.6
        tap_at(page, target, y)
        page.wait_for_function(f"""() => {{
            const row = window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me);
            return (row[1] - {x}) * ({target} - {x}) > 0 && Math.abs(row[1] - {x}) > 0.05;
        }}""")

        # Fireball button, then a tap aims it.
        page.wait_for_function("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)[5] === 0")
        page.tap("#skill-fireball")
        assert page.get_attribute("#skill-fireball", "aria-pressed") == "true"
        tap_at(page, 0.9, 0.5)
        page.wait_for_function("window.arena.events.includes('shoot_fireball')")
        assert page.get_attribute("#skill-fireball", "aria-pressed") == "false"

        # Chat: a button opens a labelled box (there is no Enter key on a phone).
        page.tap("#chat-toggle")
        assert page.is_visible("#chat-input") and page.inner_text("label[for=chat-input]") == "Chat message"
        page.fill("#chat-input", "gg from my phone")
        page.tap("#chat-form button")
        page.wait_for_function("document.querySelector('#chat-log').textContent.includes('gg from my phone')")
        assert page.is_hidden("#chat-input")
        gallery(page, "phone-portrait")

        # Sideways: the arena takes the screen's height, the controls a column beside it.
        page.set_viewport_size({"width": 844, "height": 390})
        page.wait_for_function("document.querySelector('#canvas').getBoundingClientRect().height >= 351")
        arena = page.locator("#canvas").bounding_box()
        assert arena["y"] >= 0 and arena["y"] + arena["height"] <= 390 and arena["height"] >= 0.9 * 390
        fireball = page.locator("#skill-fireball").bounding_box()
        assert fireball["x"] >= arena["x"] + arena["width"] and fireball["height"] >= 44
        gallery(page, "phone-landscape")
        assert page.errors == []
    finally:
        context.close()
