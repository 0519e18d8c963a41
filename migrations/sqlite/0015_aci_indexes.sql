-- The ACI report sums a calendar year of every campaign's counts (issue 15): by day
-- first, across campaigns, reading the index alone.
create index campaign_actions_by_year_day on campaign_actions (on_day, organisation_id, count);
