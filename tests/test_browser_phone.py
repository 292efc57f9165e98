"""The browser client on a 390×844 touch phone, in headless Chromium with touch emulation."""

from tests.browser_support import browser, gallery, open_page, register, server_url  # noqa: F401

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def tap_at(page, tx, ty):
    """Tap the canvas at map coordinates."""
    box = page.locator("#canvas").bounding_box()
    page.touchscreen.tap(box["x"] + tx / (16 / 9) * box["width"], box["y"] + ty * box["height"])


def me(page):
    return page.evaluate("window.arena.lastState.players.find(r => r[0] === window.arena.renderer.me)")


def test_a_phone_plays_with_taps_and_skill_buttons(browser, server_url):
    context, page = open_page(browser, server_url, **PHONE)
    try:
        register(page)
        assert page.is_visible(".controls-help.touch-only") and not page.is_visible(".controls-help.mouse-only")
        page.tap("#play")
        page.wait_for_selector("body[data-view=game]")
        page.wait_for_function("window.arena.lastState !== null")

        # Portrait: a hint to turn the phone, an arena as wide as the screen, readable names,
        # and the skill buttons below the arena, big enough for a thumb.
        assert page.is_visible("#rotate-hint")
        arena = page.locator("#canvas").bounding_box()
        assert arena["width"] >= 380
        assert page.evaluate("window.arena.renderer.labelCssPx") >= 13
        for button in ("#skill-fireball", "#skill-blink"):
            box = page.locator(button).bounding_box()
            assert box["height"] >= 40 and box["y"] >= arena["y"] + arena["height"]

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
        gallery(page, "phone-game")

        # Landscape: the hint goes and the arena fills the screen's height.
        page.set_viewport_size({"width": 844, "height": 390})
        page.wait_for_selector("#rotate-hint", state="hidden")
        arena = page.locator("#canvas").bounding_box()
        assert arena["y"] + arena["height"] <= 390 and arena["width"] >= 500
        gallery(page, "phone-landscape")
        assert page.errors == []
    finally:
        context.close()
