-- pgbench script of scripts/load: the raw database baseline, a prepared
-- primary-key lookup returning a JSON document as large as the
-- publicTracking answer (table load_docs, filled by scripts/load).
\set id random(1, 10000)
SELECT doc FROM load_docs WHERE id = :id;
