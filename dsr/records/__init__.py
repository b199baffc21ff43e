"""Records management: everything held about a person, and the retention schedule.

- Subject access (UK GDPR Art 15; RELIABILITY H-6): `person_records_export` writes one ZIP
  holding a JSON file with every row about a person in every table, history rows included, and
  the files stored with those rows.
- Retention (storage limitation; the NHS Records Management Code; ASVS v5.0.0-14.2.7;
  RELIABILITY H-7): `retention_run` removes records past their period with their history rows,
  outbox rows and stored files, and writes one RetentionRun row per rule.

Both read one map of the schema, `record_graph(root)`, worked out from the models' relations
rather than listed by hand, so a model added later with a foreign key to a person (or to anything
about a person) is exported and removed with them without a change here:

- a foreign key into the graph brings a model in (Consent.person, Rating.entry,
  ReferralContact.referral, Action.cetr);
- a history model (django-simple-history) is linked to its model by the object's id, and through
  its own copies of the foreign keys, so the history of rows already deleted is found too;
- a pair of fields `<name>_type` and `<name>_id` points at a row of any model by its label
  ("referrals.referral", 12): Notification.subject, Reminder.subject, Escalation.trigger.

Rows are collected by id, a table at a time, parents before children; deletes run children
first, one DELETE per table per batch of people or referrals. No row is handled one by one in
Python, except the stored files, which the storage deletes one at a time after the commit.
"""

from dsr.records.graph import (  # noqa: F401
    CHUNK,
    PERSON,
    ROOT_BATCH,
    Link,
    Node,
    RecordGraph,
    StoredFile,
    chunks,
    collect,
    foreign_keys,
    graph_models,
    history_base,
    record_graph,
    stored_files,
)
from dsr.records.retention import (  # noqa: F401
    DETACHED,
    OWN_RULES,
    REMOVED,
    REMOVED_EMAIL,
    PersonHold,
    RetentionError,
    RetentionRule,
    days_before,
    people_past_retention,
    records_remove,
    register_person_hold,
    register_retention_rule,
    retention_run,
    retention_runs_recent,
    years_before,
)
from dsr.records.subject_access import (  # noqa: F401
    SubjectAccessExport,
    person_records_export,
)
