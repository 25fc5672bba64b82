"""Fixes: for a finding, the edit that fixes it, computed from the model
that found it and checked by analysing the edited file again.

``edits`` holds what a fix is (plain data: lines to insert or delete, hook
functions to create) and turns fixes into new file text, unified diffs
and commit-style patches; ``propose`` computes the candidate fixes of a
finding from the linked program and the facts the rules used; ``recheck``
(session level: it runs the frontend and the rules again) keeps a
candidate only when, applied, the finding is gone, no new finding
appears and the file still preprocesses and parses.

Nothing here prints; the command line (``lifecheck fix``) and the
reporters (SARIF ``fixes``, the text ``fix:`` hint) render the result.
"""
