"""Why an audience is refused, in the page's language: the template of the error is translated and its numbers are
formatted for the language; the English message (the job's logs, the CLI) stays as it was."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.audiences import NAME_MAX, build_audience
from analytics.errors import AudienceError, InputDataError
from dashboard.audiences import error_text
from dashboard.components import format as fmt
from dashboard.i18n import use_language

MEMBERS = pd.DataFrame({"customer_id": ["1", "2", "3", "4"], "segment": ["Loyal"] * 4})


def _refusal(**overrides: object) -> AudienceError:
    params: dict = {"name": "Spring offer", "note": None, "control_share": 0.25, "created_by": "ana",
                    "snapshot_version": "v1", "source": "test", "max_members": 10}
    with pytest.raises(AudienceError) as caught:
        build_audience(MEMBERS, **{**params, **overrides})
    return caught.value


def test_a_missing_name_is_explained_in_french_and_in_english():
    refusal = _refusal(name="  ")
    assert str(refusal) == "An audience needs a name." == error_text(refusal)
    with use_language("fr"):
        assert error_text(refusal) == "Une audience doit avoir un nom."


def test_numbers_of_a_refusal_are_formatted_for_the_language():
    refusal = _refusal(name="x" * (NAME_MAX + 1))
    assert str(refusal) == f"The audience name has {NAME_MAX + 1} characters; at most {NAME_MAX} are allowed."
    with use_language("fr"):
        assert error_text(refusal) == f"Le nom de l’audience a {NAME_MAX + 1} caractères\u00a0; {NAME_MAX} au plus " \
                                      "sont autorisés."
    big = AudienceError("This list has {count} customers; an audience holds at most {limit} "
                        "(campaigns.max_members).", count=12_345, limit=10_000)
    assert str(big) == "This list has 12,345 customers; an audience holds at most 10,000 (campaigns.max_members)."
    with use_language("fr"):
        french = error_text(big)
        assert french.startswith(f"Cette liste compte {fmt.count(12_345)} clients") and "12,345" not in french


def test_other_errors_are_shown_as_they_are():
    assert error_text(InputDataError("Input file not found: x.csv")) == "Input file not found: x.csv"
    with use_language("fr"):
        assert error_text(AudienceError("Cannot read the ids file x: gone")) == "Cannot read the ids file x: gone"
