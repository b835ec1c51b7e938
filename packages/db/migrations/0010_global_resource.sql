-- An event sent without `resource` is stored with `resource = 'global'`, as Meshes documents the default
-- (its SDK types: `resource` defaults to "global"), so that a rule naming `resource: "global"` matches it and
-- every answer shows it. Events stored before this had NULL there: they are given 'global' here, once, so
-- that reads, filters and deliveries see one value. A rule's NULL `resource` still means "any resource".

update events set resource = 'global' where resource is null;
