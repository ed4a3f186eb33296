"""Label values stay valid whatever the manifest version."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from plexica_infra.k8s.labels import label_value, plugin_labels, selector_labels
from tests.k8s._support import shipped

# Kubernetes' own rule for label values.
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@given(st.text(max_size=120))
def test_label_value_is_always_valid(text: str) -> None:
    value = label_value(text)
    assert len(value) <= 63
    assert LABEL_VALUE.match(value)


def test_label_value_keeps_plain_versions() -> None:
    assert label_value("1.2.0") == "1.2.0"
    assert label_value("1.2.0-rc.1+build.5") == "1.2.0-rc.1_build.5"


def test_selector_is_a_subset_of_the_labels() -> None:
    m = shipped("crm")
    assert selector_labels(m).items() <= plugin_labels(m).items()
