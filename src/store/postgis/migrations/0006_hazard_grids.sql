-- Hazards by grid: a boundary edit reads only the hazards in the grids it
-- changes and their parents (and those outside every town), not the
-- county's thousands, as it already does for open incidents. The same
-- indexes on both backends.
CREATE INDEX hazards_l1 ON hazards (grid_l1);
CREATE INDEX hazards_l2 ON hazards (grid_l2);
CREATE INDEX hazards_l3 ON hazards (grid_l3);
CREATE INDEX hazards_l4 ON hazards (grid_l4);
CREATE INDEX hazards_l5 ON hazards (grid_l5);
