-- Golden cases of analysts' SQL, loaded by tests/sql/test_cases.py.
--
-- One case per block, blocks separated by a blank line. A block's header lines are
-- `-- key: value`; the rest is the query, sent as it is (comments and semicolons included).
--   case:    the case's name
--   expect:  `columns a, b` (runs; the answer's columns, in order),
--            `refused RULE` (400 sql_refused, naming the rule),
--            `error CODE` (400 sql_error / sql_timeout / sql_too_large: DuckDB stopped it), or
--            `status N` (that HTTP status)
--   as:      the caller (tests/sql/conftest.py CALLERS; default: analyst, every field masked)
--   dialect: the dialect sent with the query
--   rows:    the number of rows the answer must have

-- case: read_csv
-- expect: refused function
SELECT * FROM read_csv('/etc/passwd');

-- case: read_csv_auto
-- expect: refused function
SELECT * FROM read_csv_auto('/etc/passwd', sep = ':')

-- case: read_parquet
-- expect: refused function
SELECT * FROM read_parquet('/tmp/*.parquet')

-- case: read_json
-- expect: refused function
SELECT * FROM read_json('/etc/hosts')

-- case: read_text
-- expect: refused function
SELECT content FROM read_text('/etc/passwd')

-- case: read_blob of a serving copy
-- expect: refused function
SELECT content FROM read_blob('serving/population.residents/*.duckdb')

-- case: glob lists files
-- expect: refused function
SELECT * FROM glob('/*')

-- case: st_read
-- expect: refused function
SELECT * FROM st_read('/etc/passwd')

-- case: iceberg_scan of the warehouse
-- expect: refused function
SELECT * FROM iceberg_scan('warehouse/data/population/residents')

-- case: sniff_csv
-- expect: refused function
SELECT * FROM sniff_csv('/etc/passwd')

-- case: parquet_metadata
-- expect: refused function
SELECT * FROM parquet_metadata('x.parquet')

-- case: read_xlsx
-- expect: refused function
SELECT * FROM read_xlsx('x.xlsx')

-- case: string literal as a table
-- expect: refused file
SELECT * FROM '/etc/passwd'

-- case: relative file name as a table
-- expect: refused file
SELECT * FROM 'residents.csv'

-- case: URL as a table
-- expect: refused file
SELECT * FROM 'https://example.com/data.parquet'

-- case: file joined to a dataset
-- expect: refused file
SELECT * FROM population.residents, '/etc/passwd'

-- case: CTE named like a file, read outside its scope
-- expect: refused file
SELECT * FROM (WITH "/etc/passwd" AS (SELECT 1) SELECT 1) AS x, "/etc/passwd"

-- case: getenv
-- expect: refused function
SELECT getenv('HOME')

-- case: COPY TO a file
-- expect: refused statement
COPY (SELECT * FROM population.residents) TO '/tmp/residents.csv'

-- case: COPY FROM a file
-- expect: refused statement
COPY population.residents FROM '/etc/passwd'

-- case: EXPORT DATABASE
-- expect: refused syntax
EXPORT DATABASE '/tmp/everything'

-- case: ATTACH
-- expect: refused statement
ATTACH '/tmp/other.duckdb' AS other

-- case: DETACH
-- expect: refused statement
DETACH population

-- case: INSTALL
-- expect: refused statement
INSTALL httpfs

-- case: LOAD
-- expect: refused statement
LOAD httpfs

-- case: SET
-- expect: refused statement
SET enable_external_access = true

-- case: RESET
-- expect: refused statement
RESET lock_configuration

-- case: PRAGMA
-- expect: refused statement
PRAGMA database_list

-- case: CALL
-- expect: refused statement
CALL duckdb_tables()

-- case: CREATE TABLE
-- expect: refused statement
CREATE TABLE copy AS SELECT * FROM population.residents

-- case: CREATE VIEW over a dataset
-- expect: refused statement
CREATE OR REPLACE VIEW population.residents AS SELECT 1

-- case: CREATE SECRET
-- expect: refused statement
CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')

-- case: INSERT
-- expect: refused statement
INSERT INTO population.residents VALUES ('x')

-- case: UPDATE
-- expect: refused statement
UPDATE population.residents SET name = 'x'

-- case: DELETE
-- expect: refused statement
DELETE FROM population.residents

-- case: DROP
-- expect: refused statement
DROP VIEW population.residents

-- case: two statements
-- expect: refused statement
SELECT 1; SELECT 2

-- case: a read followed by a write
-- expect: refused statement
SELECT 1; DROP TABLE x

-- case: empty
-- expect: refused statement
;

-- case: SUMMARIZE
-- expect: refused statement
SUMMARIZE population.residents

-- case: DESCRIBE
-- expect: refused statement
DESCRIBE population.residents

-- case: SHOW TABLES
-- expect: refused statement
SHOW TABLES

-- case: EXPLAIN
-- expect: refused statement
EXPLAIN SELECT * FROM population.residents

-- case: USE
-- expect: refused statement
USE population

-- case: CHECKPOINT
-- expect: refused statement
CHECKPOINT

-- case: a transaction
-- expect: refused statement
BEGIN TRANSACTION

-- case: SET VARIABLE
-- expect: refused statement
SET VARIABLE secret = 1

-- case: getvariable
-- expect: refused function
SELECT getvariable('secret')

-- case: SELECT INTO
-- expect: refused syntax
SELECT * INTO copy FROM population.residents

-- case: parameters
-- expect: refused syntax
SELECT * FROM population.residents WHERE street_code = $1

-- case: VALUES
-- expect: columns col0, col1
-- rows: 2
VALUES (1, 'a'), (2, 'b')

-- case: WITH
-- expect: columns street_code, n
WITH s AS (SELECT street_code, count(*) AS n FROM population.residents GROUP BY 1) SELECT * FROM s

-- case: UNION ALL
-- expect: columns a
-- rows: 2
SELECT 1 AS a UNION ALL SELECT 2

-- case: EXCEPT over clear fields
-- expect: columns street_code
SELECT street_code FROM population.residents EXCEPT SELECT '110101001'

-- case: INTERSECT over clear fields
-- expect: columns grid_code
SELECT grid_code FROM population.residents INTERSECT SELECT grid_code FROM spatial.grids

-- case: parenthesized query
-- expect: columns a
(SELECT 1 AS a)

-- case: FROM first
-- expect: columns street_code
FROM population.residents SELECT street_code LIMIT 3

-- case: recursive CTE that ends
-- expect: columns n
-- rows: 10
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT n FROM r

-- case: CTE named like a dataset's table
-- expect: columns a
WITH residents AS (SELECT 1 AS a) SELECT * FROM residents

-- case: query()
-- expect: refused function
SELECT * FROM query('SELECT * FROM population.residents')

-- case: query_table()
-- expect: refused function
SELECT * FROM query_table('population.residents')

-- case: duckdb_tables()
-- expect: refused function
SELECT * FROM duckdb_tables()

-- case: duckdb_settings()
-- expect: refused function
SELECT * FROM duckdb_settings()

-- case: duckdb_databases() in a scalar subquery
-- expect: refused function
SELECT (SELECT count(*) FROM duckdb_databases()) AS n

-- case: current_setting
-- expect: refused function
SELECT current_setting('memory_limit')

-- case: information_schema
-- expect: refused dataset
SELECT * FROM information_schema.tables

-- case: pg_catalog
-- expect: refused dataset
SELECT * FROM pg_catalog.pg_class

-- case: sqlite_master
-- expect: refused dataset
SELECT * FROM sqlite_master

-- case: the attached copy by its inner name
-- expect: refused dataset
SELECT * FROM _hub_copy_0.records

-- case: three-part name
-- expect: refused dataset
SELECT * FROM memory.population.residents

-- case: system catalogue view
-- expect: refused dataset
SELECT * FROM system.main.duckdb_tables

-- case: a qualified function
-- expect: refused function
SELECT main.read_csv('/etc/passwd')

-- case: time travel syntax
-- expect: refused syntax
SELECT * FROM population.residents AT (VERSION => 1)

-- case: list_aggregate calls a function by name
-- expect: refused function
SELECT list_aggregate([1, 2], 'sum') AS s

-- case: json_execute_serialized_sql
-- expect: refused function
SELECT json_execute_serialized_sql('x')

-- case: error()
-- expect: refused function
SELECT error('boom')

-- case: setseed
-- expect: refused function
SELECT setseed(0.5)

-- case: COLUMNS by regular expression
-- expect: refused function
SELECT COLUMNS('id.*') FROM population.residents

-- case: an ungranted dataset
-- expect: refused dataset
SELECT * FROM population.households

-- case: a dataset that does not exist
-- expect: refused dataset
SELECT * FROM population.nobody

-- case: a table without its domain
-- expect: refused dataset
SELECT * FROM residents

-- case: an unconditionally shared dataset without a grant
-- expect: columns grid_code
-- as: ungranted
SELECT grid_code FROM spatial.grids LIMIT 1

-- case: the residents without a grant
-- expect: refused dataset
-- as: ungranted
SELECT count(*) FROM population.residents

-- case: a consumer runs no SQL
-- expect: status 403
-- as: consumer
SELECT 1

-- case: range
-- expect: columns range
-- rows: 3
SELECT * FROM range(3)

-- case: generate_series
-- expect: columns generate_series
SELECT * FROM generate_series(1, 3)

-- case: unnest
-- expect: columns x
SELECT * FROM unnest([1, 2, 3]) AS t(x)

-- case: masked values are selected
-- expect: columns id_number, name
SELECT id_number, name FROM population.residents LIMIT 5

-- case: WHERE on a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE id_number = '110101199003074477'

-- case: LIKE on a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE id_number LIKE '1101011990%'

-- case: ILIKE on a masked name
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE name ILIKE '王%'

-- case: a masked date compared
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE birth_date >= '1990-01'

-- case: IN over a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE phone IN ('13800000000', '13900000000')

-- case: BETWEEN over a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE id_number BETWEEN '110101199' AND '110101200'

-- case: ORDER BY a masked field
-- expect: refused masked_predicate
SELECT street_code FROM population.residents ORDER BY id_number LIMIT 1

-- case: ORDER BY the ordinal of a masked field
-- expect: refused masked_predicate
SELECT id_number, street_code FROM population.residents ORDER BY 1 LIMIT 1

-- case: ORDER BY ALL with a masked field
-- expect: refused masked_predicate
SELECT street_code, name FROM population.residents ORDER BY ALL

-- case: ORDER BY an ordinal into *
-- expect: refused masked_predicate
SELECT * FROM population.residents ORDER BY 1

-- case: GROUP BY a masked field is allowed
-- expect: columns id_number, n
SELECT id_number, count(*) AS n FROM population.residents GROUP BY id_number

-- case: JOIN ON a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents a JOIN population.residents b ON a.id_number = b.id_number

-- case: JOIN USING a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents a JOIN population.residents b USING (id_number)

-- case: NATURAL JOIN
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents NATURAL JOIN population.residents

-- case: HAVING on a masked aggregate
-- expect: refused masked_predicate
SELECT street_code FROM population.residents GROUP BY 1 HAVING max(name) > '王'

-- case: HAVING on a count of a masked field is allowed
-- expect: columns street_code
SELECT street_code FROM population.residents GROUP BY 1 HAVING count(id_number) > 1

-- case: QUALIFY ordering by a masked field
-- expect: refused masked_predicate
SELECT street_code FROM population.residents QUALIFY row_number() OVER (ORDER BY phone) = 1

-- case: CASE WHEN on a masked field
-- expect: refused masked_predicate
SELECT CASE WHEN address LIKE '%胡同%' THEN 1 ELSE 0 END AS hit FROM population.residents

-- case: simple CASE over a masked field
-- expect: refused masked_predicate
SELECT CASE name WHEN '王伟' THEN 1 END AS hit FROM population.residents

-- case: starts_with on a masked field
-- expect: refused masked_predicate
SELECT starts_with(id_number, '1101011990') AS hit FROM population.residents

-- case: a comparison in the select list
-- expect: refused masked_predicate
SELECT id_number = '110101199003074477' AS hit FROM population.residents

-- case: a masked field renamed in a CTE
-- expect: refused masked_predicate
WITH x AS (SELECT id_number AS k FROM population.residents) SELECT count(*) FROM x WHERE k = '1'

-- case: a function of a masked field in a subquery
-- expect: refused masked_predicate
SELECT count(*) FROM (SELECT lower(name) AS n FROM population.residents) WHERE n = 'x'

-- case: a masked field through a CTE's column list
-- expect: refused masked_predicate
WITH c(k) AS (SELECT id_number FROM population.residents) SELECT count(*) FROM c WHERE k = '1'

-- case: a masked field inside a struct
-- expect: refused masked_predicate
SELECT count(*) FROM (SELECT {'k': id_number} AS s FROM population.residents) WHERE s.k = '1'

-- case: the whole row as text
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents r WHERE CAST(r AS VARCHAR) LIKE '%1990%'

-- case: IS NULL on a masked field is allowed
-- expect: columns n
SELECT count(*) AS n FROM population.residents WHERE id_number IS NOT NULL

-- case: count distinct of a masked field is allowed
-- expect: columns n
SELECT count(DISTINCT id_number) AS n FROM population.residents

-- case: list of masked values is allowed
-- expect: columns ids
SELECT list(id_number) AS ids FROM population.residents

-- case: an aggregate ordered by a masked field
-- expect: refused masked_predicate
SELECT string_agg(name, ',' ORDER BY phone) AS names FROM population.residents

-- case: a window ordered by a masked field
-- expect: refused masked_predicate
SELECT lag(name) OVER (PARTITION BY street_code ORDER BY id_number) AS prev FROM population.residents

-- case: a window partitioned by a masked field is allowed
-- expect: columns n
SELECT count(*) OVER (PARTITION BY id_number) AS n FROM population.residents

-- case: INTERSECT over a masked field
-- expect: refused masked_predicate
SELECT id_number FROM population.residents INTERSECT SELECT '110101************'

-- case: IN a subquery of masked values
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents WHERE street_code IN (SELECT id_number FROM population.residents)

-- case: EXISTS with a correlated condition on a masked field
-- expect: refused masked_predicate
SELECT count(*) FROM population.residents a WHERE EXISTS (SELECT 1 FROM population.residents b WHERE b.name = a.name)

-- case: a clear field in WHERE
-- expect: columns n
SELECT count(*) AS n FROM population.residents WHERE street_code = '110101001' OR sex = '1'

-- case: a field granted in clear may be compared
-- expect: columns n
-- as: clear
SELECT count(*) AS n FROM population.residents WHERE id_number LIKE '110101%' AND name <> ''

-- case: a field outside a narrow grant
-- expect: error sql_error
-- as: narrow
SELECT phone FROM population.residents

-- case: no rowid behind a policy view
-- expect: error sql_error
SELECT rowid FROM population.residents

-- case: no serving row number behind a policy view
-- expect: error sql_error
SELECT _row FROM population.residents

-- case: quoted and upper-case dataset name
-- expect: columns street_code
SELECT street_code FROM "POPULATION"."RESIDENTS" LIMIT 1

-- case: mixed-case dataset name
-- expect: columns street_code
SELECT street_code FROM Population.Residents LIMIT 1

-- case: the whole id quoted as one name
-- expect: refused file
SELECT * FROM "population.residents"

-- case: a line comment hiding a second statement
-- expect: columns a
SELECT 1 AS a -- ; DROP TABLE x

-- case: a block comment hiding a COPY
-- expect: columns a
SELECT 1 /* ; COPY population.residents TO '/tmp/x' */ AS a

-- case: comments around the statement
-- expect: columns a
/* hello */ SELECT 1 AS a; -- bye

-- case: a comment closing early
-- expect: columns a
SELECT 1 AS a /* */ -- */ ; SELECT * FROM read_text('/etc/passwd')

-- case: a Chinese column alias
-- expect: columns 街道, 人数
SELECT street_code AS 街道, count(*) AS 人数 FROM population.residents GROUP BY 1

-- case: a homoglyph in the dataset name
-- expect: refused dataset
SELECT * FROM population.resіdents

-- case: full-width letters in the dataset name
-- expect: refused dataset
SELECT * FROM ｐｏｐｕｌａｔｉｏｎ.residents

-- case: dollar quoting
-- expect: columns a
SELECT $$it's$$ AS a

-- case: doubled quotes in a literal
-- expect: columns a
SELECT 'it''s; DROP TABLE x' AS a

-- case: postgres dialect
-- expect: columns street_code, n
-- dialect: postgres
SELECT street_code, COUNT(*) AS n FROM population.residents GROUP BY street_code ORDER BY n DESC

-- case: mysql backticks
-- expect: columns street_code
-- dialect: mysql
SELECT `street_code` FROM `population`.`residents` LIMIT 1

-- case: postgres pg_read_file
-- expect: refused function
-- dialect: postgres
SELECT pg_read_file('/etc/passwd')

-- case: mysql LOAD DATA
-- expect: refused syntax
-- dialect: mysql
LOAD DATA INFILE '/etc/passwd' INTO TABLE t

-- case: hive path as a table
-- expect: refused dataset
-- dialect: hive
SELECT * FROM csv.`/etc/passwd`

-- case: spark reading a file by its format
-- expect: refused dataset
-- dialect: spark
SELECT * FROM parquet.`/tmp/x.parquet`

-- case: an unknown dialect
-- expect: refused dialect
-- dialect: klingon
SELECT 1

-- case: a join of two datasets on clear fields
-- expect: columns grid_code, people
SELECT g.grid_code, count(*) AS people FROM spatial.grids g JOIN population.residents r ON r.grid_code = g.grid_code GROUP BY 1

-- case: geometry comes out as GeoJSON text
-- expect: columns geometry
SELECT geometry FROM spatial.grids LIMIT 1

-- case: spatial functions are not offered
-- expect: refused function
SELECT ST_Area(ST_GeomFromGeoJSON(geometry)) FROM spatial.grids

-- case: a huge range is stopped by the timeout
-- expect: error sql_timeout
SELECT count(*) FROM range(1000000000000)

-- case: a cross join is stopped by the timeout
-- expect: error sql_timeout
SELECT count(DISTINCT a.grid_code || b.name || c.phone || d.address) AS n FROM population.residents a, population.residents b, population.residents c, population.residents d

-- case: a recursive CTE that never ends
-- expect: error sql_timeout
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r

-- case: a list too large for memory
-- expect: error sql_too_large
SELECT list(i) AS l FROM range(100000000) t(i)

-- case: one aggregate too large for memory
-- expect: error sql_too_large
SELECT string_agg(CAST(i AS VARCHAR), ',') AS s FROM range(100000000) t(i)

-- case: a result larger than the byte cap
-- expect: error sql_too_large
SELECT string_agg(CAST(i AS VARCHAR), ',') AS s FROM range(4000000) t(i) GROUP BY i % 10

-- case: repeat builds a value past the memory limit
-- expect: refused function
SELECT repeat('x', 2000000000) AS x

-- case: lpad builds a value past the memory limit
-- expect: refused function
SELECT lpad('x', 2000000000, 'y') AS x

-- case: printf with a width
-- expect: refused function
SELECT printf('%2000000000d', 1) AS x

-- case: range as a value
-- expect: refused function
SELECT len(range(1000000000)) AS n

-- case: string_split of a huge string
-- expect: refused function
SELECT len(string_split(string_agg('x', ''), '')) AS n FROM range(50000000)

-- case: many rows are cut at the row cap
-- expect: columns i
-- rows: 1000
SELECT i FROM range(100000) t(i)
