"""The release's completion index: what the query editor offers while one types (vocabulary terms
with their labels and how often the data uses them, and the main resources by label).

The build writes ``completion.json`` beside the store (kusei.graph.publish.completion); the query
page's completion endpoint reads it (kusei.endpoint.web.pages.completion). They meet only in the
release, so the file's name, its version and the resource types it lists live here.
"""

from __future__ import annotations

INDEX_FILE = "completion.json"
INDEX_VERSION = 1

# Resources offered by label, in the order a tie is broken (a ward before a plan of it …), as
# local names in the vocabulary.
RESOURCE_TYPES = ("Ward", "WardOffice", "PolicyArea", "Plan", "Measure", "Project", "Section", "Mascot")
