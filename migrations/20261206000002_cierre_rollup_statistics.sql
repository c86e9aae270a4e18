-- Planner statistics for the cierres' one-pass groupings of `sales_rollup` (db::cierres).
--
-- Cierres group the rollup per sorteo (with its business day and lotería) × bet type × band,
-- and per seller (vendedor with its ventana) × lotería × bet type × band. Without these
-- objects the planner multiplies the columns' distinct counts as if they were independent
-- (a sorteo has one day and one lotería; a vendedor sells from one ventana): on 1,000,000
-- jugadas over 30 days it expects 61,000 groups instead of 2,160 (and 47,700 instead of 4,769
-- per seller), so it sorts the 103,000 rows on disk and groups them (95 ms) instead of hashing
-- them (50 ms).
CREATE STATISTICS sales_rollup_sorteo_groups (ndistinct)
    ON sorteo_id, business_date, loteria_id FROM sales_rollup;
CREATE STATISTICS sales_rollup_seller_groups (ndistinct)
    ON vendedor_id, ventana_id FROM sales_rollup;

-- Extended statistics are only gathered by ANALYZE; do it now rather than at the next
-- auto-analyze (cheap: a sample of at most 30,000 rows).
ANALYZE sales_rollup;
