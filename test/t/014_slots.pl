# The speed layer's view slots over their life cycle, and its shared memory
# (lambda.speed_memory_used: slots in use, DSA chunks held, bytes accounted
# to views, over all databases): views dropped while their deltas wait
# unsettled, a view created meanwhile, the first view of new databases
# while a worker runs, a prepared transaction's delta discarded when it
# rolls back, DROP EXTENSION and DROP DATABASE with deltas pending.  Nothing
# leaks: once every view is gone, no slot, chunk or byte is left; nothing is
# miscounted: the views left are exact on the fast path.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = lambda_node('slots');

sub sql { my ($query, $db) = @_; return $node->safe_psql($db // 'postgres', $query) }

my $used = q{SELECT views || ':' || chunks || ':' || bytes FROM lambda.speed_memory_used()};

# A worker that naps a minute leaves handed-off deltas pending meanwhile
sub naptime
{
	sql(qq{ALTER SYSTEM SET lambda.naptime = '$_[0]'; SELECT pg_reload_conf()});
}

sql(q{CREATE EXTENSION lambda});
is(sql($used), '0:0:0', 'no view: no slot, no memory');

# --- views dropped while their deltas wait unsettled ----------------------

sql(q{CREATE TABLE ev (k int, x int);
	  SELECT lambda.create_master('ev');
	  SELECT lambda.create_view('v1', 'SELECT k, count(*) AS n, sum(x) AS s FROM ev GROUP BY k');
	  SELECT lambda.create_view('v2', 'SELECT k % 2 AS p, max(x) AS m FROM ev GROUP BY 1');
	  INSERT INTO ev SELECT i % 10, i FROM generate_series(1, 1000) i;});
like(sql($used), qr/^2:[1-9]\d*:[1-9]\d*$/, 'two views hold slots and memory');
naptime('1min');
sql(q{INSERT INTO ev SELECT i % 10, i FROM generate_series(1, 200) i});
sql(q{INSERT INTO ev SELECT i % 20, i FROM generate_series(1, 50) i});
cmp_ok(sql(q{SELECT sum(speed_pending) FROM lambda.views}), '>=', 2, 'deltas wait unsettled');
sql(q{DROP VIEW v1});
sql(q{SELECT lambda.drop_view('v2')});
sql(q{SELECT lambda.create_view('v3', 'SELECT k, count(*) AS n, min(x) AS lo FROM ev GROUP BY k')});
sql(q{INSERT INTO ev SELECT i % 30, i FROM generate_series(1, 300) i});
# a prepared transaction's delta, discarded when it rolls back
sql(q{BEGIN; INSERT INTO ev SELECT 99, i FROM generate_series(1, 10) i; PREPARE TRANSACTION 'gone'});
naptime('100ms');
ok(wait_until($node, q{SELECT views FROM lambda.speed_memory_used()}, '1'),
	'the dropped views\' slots are freed, with the deltas they had');
sql(q{ROLLBACK PREPARED 'gone'});
my $v3 = q{SELECT k, count(*) AS n, min(x) AS lo FROM ev GROUP BY k};
ok(wait_fast($node, 'v3'), 'the view created meanwhile is on the fast path');
is(exact($node, 'v3', $v3), 't|0', 'and exact: the rolled-back rows are nowhere');
is(sql(q{SELECT sum(speed_pending) FROM lambda.views}), '0', 'the discarded delta is no longer pending');

# --- a view whose creating transaction stays open over worker rounds ------
# Its slot is CREATING: the worker, which cannot see the view in the
# catalog yet, must not forget it (nor the delta its transaction captured);
# one rolled back is forgotten.

my $creating = $node->background_psql('postgres');
$creating->query_safe(q{BEGIN;
	SELECT lambda.create_view('v4', 'SELECT k, sum(x) AS s FROM ev GROUP BY k');
	INSERT INTO ev SELECT i % 7, i FROM generate_series(1, 70) i});
my $rolled = $node->background_psql('postgres');
$rolled->query_safe(q{BEGIN;
	CREATE TABLE ev5 (k int, x int);
	SELECT lambda.create_master('ev5');
	SELECT lambda.create_view('v5', 'SELECT k, max(x) AS m FROM ev5 GROUP BY k');
	INSERT INTO ev5 VALUES (1, 1)});
is(sql(q{SELECT views FROM lambda.speed_memory_used()}), '3', 'two views being created hold slots');
my $rounds = sql(q{SELECT lambda.settle_rounds('v3')});
ok(wait_until($node, qq{SELECT lambda.settle_rounds('v3') >= $rounds + 5}),
	'the worker runs rounds meanwhile');
$rolled->query_safe(q{ROLLBACK});
$rolled->quit;
ok(wait_until($node, q{SELECT views FROM lambda.speed_memory_used()}, '2'),
	'the rolled-back view\'s slot is freed');
$creating->query_safe(q{COMMIT});
$creating->quit;
is(exact($node, 'v4', q{SELECT k, sum(x) AS s FROM ev GROUP BY k}), 't|0',
	'the view committed after those rounds is on the fast path at once, and exact');
sql(q{SELECT lambda.drop_view('v4')});
ok(wait_until($node, q{SELECT views FROM lambda.speed_memory_used()}, '1'), 'and its slot is freed once dropped');

# --- the first view of new databases while the worker runs ---------------

for my $i (1 .. 4)
{
	sql(qq{CREATE DATABASE db$i});
	sql(q{CREATE EXTENSION lambda;
		  CREATE TABLE t (k int, x int);
		  SELECT lambda.create_master('t');
		  SELECT lambda.create_view('w', 'SELECT k, count(*) AS n, sum(x) AS s FROM t GROUP BY k');
		  INSERT INTO t SELECT i % 5, i FROM generate_series(1, 100) i;}, "db$i");
}
for my $i (1 .. 4)
{
	ok(wait_fast($node, 'w', 60, "db$i"), "db$i: its first view is on the fast path");
	is(exact($node, 'w', q{SELECT k, count(*) AS n, sum(x) AS s FROM t GROUP BY k}, "db$i"),
		't|0', "db$i: exact");
}
is(sql(q{SELECT views FROM lambda.speed_memory_used()}), '5', 'five views, five slots');

# --- DROP EXTENSION and DROP DATABASE with deltas pending -----------------

naptime('1min');
sql(q{INSERT INTO t SELECT i % 7, i FROM generate_series(1, 100) i}, "db$_") for 1 .. 4;
is(sql(q{SELECT speed_pending FROM lambda.views}, 'db1'), '1', 'db1: a delta waits unsettled');
sql(q{DROP EXTENSION lambda CASCADE}, 'db1');
sql(q{DROP EXTENSION lambda CASCADE}, 'db2');
sql(q{DROP DATABASE db3 WITH (FORCE)});
naptime('100ms');
ok(wait_until($node, q{SELECT views FROM lambda.speed_memory_used()}, '2'),
	'the slots of the dropped extensions and database are freed');
ok(wait_fast($node, 'w', 60, 'db4'), 'db4 is on the fast path');
is(exact($node, 'w', q{SELECT k, count(*) AS n, sum(x) AS s FROM t GROUP BY k}, 'db4'),
	't|0', 'db4: exact, with its delta from before');

# --- nothing left ---------------------------------------------------------

sql(q{DROP TABLE ev CASCADE});
sql(q{DROP TABLE t CASCADE}, 'db4');
ok(wait_until($node, $used, '0:0:0'), 'every view gone: no slot, no chunk, no byte left');

# the function is the monitoring roles'
sql(q{CREATE ROLE nobody_special LOGIN});
my ($ret, $out, $err) = $node->psql('postgres', q{SET ROLE nobody_special; SELECT * FROM lambda.speed_memory_used()});
like($err, qr/permission denied for function speed_memory_used/, 'an ordinary role may not read it');
sql(q{GRANT pg_monitor TO nobody_special});
is(sql(q{SET ROLE nobody_special; SELECT views FROM lambda.speed_memory_used()}), '0', 'pg_monitor may');

done_testing();
