"""bench.report rewrites sections 1 and 3 of docs/PERFORMANCE.md and keeps the others as they are."""

from bench import report


def test_sections_after_the_fourth_are_kept(tmp_path, monkeypatch):
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\n## 1. Refresh\n\nold\n\n## 4. Cross-sell explorer speed\n\nfour\n\n"
                   "## 5. Predicted customer value\n\nfive\n\n## 6. The refresh at 1 M customers\n\nsix\n",
                   encoding="utf-8")
    monkeypatch.setattr(report, "DOC", doc)
    assert report._section_4().strip() == "## 4. Cross-sell explorer speed\n\nfour"
    kept = report._later_sections()
    assert kept.startswith("\n## 5. Predicted customer value") and kept.rstrip().endswith("six")
