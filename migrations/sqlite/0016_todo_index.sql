-- The to-do list (`GET /v1/tasks`, issue 12): an assignee's open tasks in due-date
-- order, so that the first page reads 50 rows and checks the access rule on those
-- alone instead of on every open task before sorting them (a nurse with 1,000 open
-- tasks: the rule cost 2 ms on SQLite and the list ran 1.7 times the unruled query;
-- with this index 1.2 times). The predicate is the store's "open" list, written the
-- same way: SQLite uses a partial index only when the query names its condition.
create index care_plan_tasks_open_by_due on care_plan_tasks (assignee_id, due_on, id)
    where status in ('proposed', 'accepted', 'in_progress');
