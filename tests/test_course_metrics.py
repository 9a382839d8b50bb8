"""graphfreeze_helpers.course.metrics: the figures notebooks record for make run's summary."""

from __future__ import annotations

import json

from graphfreeze_helpers.course import metrics


def test_record_metrics_merges_and_survives_a_damaged_file(tmp_path):
    metrics.record_metrics(tmp_path, accuracy=0.9)
    record = metrics.record_metrics(tmp_path / "", nodes=52)
    assert record == {"accuracy": 0.9, "nodes": 52}
    assert json.loads((tmp_path / metrics.METRICS_FILE).read_text()) == record
    (tmp_path / metrics.METRICS_FILE).write_text("{broken")
    assert metrics.record_metrics(tmp_path, size=1) == {"size": 1}
