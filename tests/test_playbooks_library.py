"""The shipped library is valid and complete; bad files are reported by file, line, key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from playbooks.errors import PlaybookFormatError
from playbooks.library import LIBRARY_DIR, load_library
from playbooks.loader import load_dir, parse_playbook
from playbooks.model import TIERS

SHIPPED = {
    "onboarding_first_value",
    "adoption_buying_committee",
    "churn_risk_save",
    "low_engagement_recovery",
    "expansion_qualification",
    "multithreading",
    "qbr_readiness",
    "renewal",
    "voc_detractor_followup",
    "exec_sponsor_alignment",
}


def test_every_shipped_playbook_is_valid_and_complete():
    library = load_library()
    assert set(library) == SHIPPED
    for name, playbook in library.items():
        assert (LIBRARY_DIR / f"{name}.yml").exists(), "one file per playbook, named after it"
        assert playbook.trigger is not None, name
        assert playbook.metrics and playbook.exit and playbook.pitfalls, name
        assert len(playbook.steps) >= 4, name
        assert all(len(step.instructions) > 60 for step in playbook.steps), name


def test_library_encodes_the_cadences_cs_leaders_use():
    library = load_library()
    renewal = library["renewal"]
    assert renewal.anchor == "renewal"
    assert [s.day for s in renewal.steps if s.day < 0] == [-120, -90, -60, -45, -30, -14]
    onboarding_days = {s.day for s in library["onboarding_first_value"].steps}
    assert {1, 3, 7, 14} <= onboarding_days
    qbr = library["qbr_readiness"].steps
    brief = next(s for s in qbr if "brief" in s.title.lower())
    meeting = next(s for s in qbr if s.title == "Hold the QBR")
    follow_up = next(s for s in qbr if "follow-up" in s.title.lower())
    assert meeting.day - brief.day == 7 and follow_up.day > meeting.day
    voc = library["voc_detractor_followup"]
    assert max(s.day for s in voc.steps if s.kind in ("message", "meeting")) > 2
    assert [s.day for s in voc.steps[:2]] == [0, 2]  # answered within 48 hours
    assert TIERS == ("csm", "manager", "executive")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


def shipped_data(name: str = "renewal") -> dict:
    return yaml.safe_load((LIBRARY_DIR / f"{name}.yml").read_text())


def problems_for(data: dict | str, filename: str = "renewal.yml") -> list[str]:
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(PlaybookFormatError) as caught:
        parse_playbook(text, filename)
    return caught.value.problems


def test_bad_owner_role_names_file_line_key_and_allowed_values():
    data = shipped_data()
    data["steps"][2]["owner_role"] = "director"
    [problem] = problems_for(data)
    text = yaml.safe_dump(data, sort_keys=False)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "director" in row)
    assert problem == (
        f"renewal.yml:{line}: steps #3.owner_role: must be one of csm, manager, "
        "exec_sponsor, ae (got 'director')"
    )


def test_every_problem_in_a_file_is_listed():
    data = shipped_data()
    del data["objective"]
    data["stage"] = "sprint"
    data["steps"][0]["colour"] = "red"
    data["cooldown_days"] = -1
    problems = problems_for(data)
    joined = "\n".join(problems)
    assert len(problems) == 4
    assert "objective: required" in joined
    assert "stage: must be one of crawl, walk, run (got 'sprint')" in joined
    assert "steps #1.colour: unknown key" in joined
    assert "cooldown_days: input should be greater than or equal to 0 (got -1)" in joined


def test_trigger_problems_have_clean_key_paths():
    data = shipped_data("churn_risk_save")
    data["trigger"] = {"any": [{"band_entered": "amber"}, {"logins_fell": {"pct": 50}}]}
    problems = problems_for(data, "churn_risk_save.yml")
    assert any(
        "trigger.any #1.band_entered #1: must be one of healthy, neutral, at_risk, critical" in p
        for p in problems
    )
    assert any("trigger.any #2: unknown condition 'logins_fell'" in p for p in problems)
    data["trigger"] = {"segment": "smb", "arr": {"min": 1}}
    [problem] = problems_for(data, "churn_risk_save.yml")
    assert "trigger: a condition has exactly one key (got segment, arr)" in problem


def test_template_fields_are_checked_at_load():
    data = shipped_data()
    data["steps"][1]["message"] = "Hi ${first_name}, about ${account_name}"
    [problem] = problems_for(data)
    assert "steps #2.message: unknown field(s) first_name" in problem
    data["steps"][1]["message"] = "Costs $ 5"
    [problem] = problems_for(data)
    assert "steps #2.message: invalid placeholder" in problem


def test_negative_day_needs_the_renewal_anchor():
    data = shipped_data("churn_risk_save")
    data["steps"][1]["day"] = -3
    [problem] = problems_for(data, "churn_risk_save.yml")
    assert "steps #2.day: -3 is before the run starts" in problem


def test_yaml_syntax_error_gives_the_line():
    text = "name: broken\ntitle: Broken\nsteps:\n  - title: [unclosed\n    day: 1\n"
    [problem] = problems_for(text, "broken.yml")
    assert problem.startswith("broken.yml:5:")
    assert "YAML syntax error" in problem
    [problem] = problems_for("- just\n- a list\n", "list.yml")
    assert problem == "list.yml: must hold one mapping of playbook keys"


def test_load_dir_reports_all_files_and_duplicate_names(tmp_path):
    good = (LIBRARY_DIR / "renewal.yml").read_text()
    write(tmp_path, "a.yml", good)
    write(tmp_path, "b.yaml", good)
    write(tmp_path, "c.yml", "name: c\n")
    write(tmp_path, "notes.txt", "ignored")
    with pytest.raises(PlaybookFormatError) as caught:
        load_dir(tmp_path)
    joined = "\n".join(caught.value.problems)
    assert "b.yaml: name: 'renewal' is already defined in a.yml" in joined
    assert "c.yml:1: title: required" in joined


def test_extra_dir_adds_and_overrides_by_name(tmp_path):
    data = shipped_data()
    data["title"] = "Renewal (our way)"
    data["cooldown_days"] = 300
    write(tmp_path, "ours.yml", yaml.safe_dump(data))
    extra = shipped_data("multithreading")
    extra["name"] = "partner_handoff"
    write(tmp_path, "partner.yml", yaml.safe_dump(extra))
    library = load_library(tmp_path)
    assert library["renewal"].title == "Renewal (our way)"
    assert library["renewal"].cooldown_days == 300
    assert "partner_handoff" in library and len(library) == len(SHIPPED) + 1
    write(tmp_path, "bad.yml", "name: Bad Name\n")
    with pytest.raises(PlaybookFormatError):
        load_library(tmp_path)
