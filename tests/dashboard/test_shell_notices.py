"""The app shell's notices: "new data published — reload" (defect 7)."""

from __future__ import annotations

from dashboard.app import new_data_notice
from tests.dashboard.components import by_id, text


def test_no_notice_while_the_page_shows_the_current_version():
    assert new_data_notice("v1", "v1", "http://x/segments") is None
    assert new_data_notice(None, "v2", "http://x/ops") is None  # a page without snapshot data (ops, 404)
    assert new_data_notice("v1", None, "http://x/") is None  # store unreadable: nothing newer is known


def test_notice_when_a_newer_version_is_served():
    notice = new_data_notice("v1", "v2", "http://x/segments?segment=Loyal")
    assert text(notice).startswith("New data published.")
    assert by_id(notice, "new-data-reload").href == "http://x/segments?segment=Loyal"


def test_the_shell_polls_at_the_configured_pace(dash_app):
    from dashboard.app import _shell

    assert by_id(_shell(60.0), "new-data-poll").interval == 60_000
    assert by_id(_shell(0), "new-data-poll").disabled is True


def test_pages_carry_the_version_they_show(dash_app, in_request):
    """The notice reads the framed page's version through a pattern id: a page without data has None."""
    from dashboard import data
    from dashboard.components.shell import FRAME_VERSION
    from tests.dashboard.components import page_module, walk

    def frame_versions(page) -> list:
        return [c.data for c in walk(page) if getattr(c, "id", None) == FRAME_VERSION]

    assert frame_versions(page_module("/segments").layout()) == [data.current_version()]
    assert frame_versions(page_module("/404").layout()) == [None]
