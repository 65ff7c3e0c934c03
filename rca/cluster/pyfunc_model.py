"""The MLflow pyfunc form of a theme catalog, logged as *model from code*.

MLflow loads this file instead of unpickling an object, so a registered `rca-themes` version
never executes pickled code. Input: a frame whose columns are the embedding dimensions.
Output: `theme_id` ("" = unassigned) and `similarity`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from rca.cluster.catalog import ThemeCatalog

CATALOG_ARTIFACT = "catalog"


class ThemeModelPyfunc(PythonModel):
    """Assigns embedding rows to the catalog's themes by nearest centroid."""

    def load_context(self, context: Any) -> None:
        self.catalog = ThemeCatalog.load(Path(context.artifacts[CATALOG_ARTIFACT]))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        ids, score = self.catalog.assign(model_input.to_numpy(dtype="float64"))
        return pd.DataFrame({"theme_id": ids, "similarity": score})


mlflow.models.set_model(ThemeModelPyfunc())
