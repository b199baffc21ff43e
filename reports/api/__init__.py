"""The read feed for BI tools (Power BI, Tableau, Excel): the reports' protected aggregates as
JSON and CSV, over a token an administrator issues (ACCESS.md "API client").

- `auth`: the bearer token, looked up by its digest; a call acts as the token's organisation's
  planning commissioner would, and may read nothing but these aggregates.
- `views`: the read-only endpoints (Django REST framework) and the OpenAPI document
  (drf-spectacular). Every answer is built from the same published tables as the report pages
  and their CSV downloads (reports.disclosure): rounded, small counts hidden, never a person.
- `tokens`: issuing and withdrawing tokens, for administrators.
"""
