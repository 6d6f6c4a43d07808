# Upgrade: a database with lambda 0.1 and views with data, updated with
# ALTER EXTENSION lambda UPDATE, keeps its views exact and capturing, and
# gets 0.2's model: internal relations owned by the extension's owner and
# readable by the view's owner only, capture() not PUBLIC.  The views here
# are made to look as 0.1 left them (batch table and partial view owned by
# the view's owner, no security_invoker), since the library is 0.2's.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $node = lambda_node('upgrade');

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total, avg(amount) AS avg_amount
              FROM events GROUP BY grp};

sub sql { return $node->safe_psql('postgres', $_[0]) }

sql(q{
	CREATE EXTENSION lambda VERSION '0.1';
	CREATE ROLE bob LOGIN;
	CREATE ROLE carol;
	CREATE ROLE dave;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	GRANT SELECT, TRIGGER ON events TO bob;
	GRANT CREATE ON SCHEMA public TO bob;
	INSERT INTO events SELECT i, 'g' || (i % 5), i % 10 FROM generate_series(1, 1000) i;
});
sql(qq{SET ROLE bob; SELECT lambda.create_view('v', \$\$ $query \$\$)});
is(sql(q{SELECT extversion FROM pg_extension WHERE extname = 'lambda'}), '0.1', 'installed 0.1');

# as 0.1 left its views: internal relations owned by the view's owner
sql(q{
	UPDATE pg_class SET relowner = 'bob'::regrole, relacl = NULL, reloptions = NULL
	 WHERE oid IN (SELECT batch_table FROM lambda.view UNION ALL SELECT partial_view FROM lambda.view);
	-- bob passed a right on, with grant option, and carol passed it on
	UPDATE pg_class SET relacl = '{bob=arwdDxt/bob,carol=r*/bob,dave=r/carol}'
	 WHERE oid IN (SELECT batch_table FROM lambda.view);
});
sql(q{INSERT INTO events SELECT i, 'g' || (i % 7), 1 FROM generate_series(1001, 1200) i});
# what 0.1 let bob attach to his batch table: extended statistics whose
# expression ANALYZE would run as the batch table's next owner
sql(q{CREATE FUNCTION public.bobs(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT $1';
	  ALTER FUNCTION public.bobs(text) OWNER TO bob;});
my $batch = sql(q{SELECT batch_table FROM lambda.view});
sql(qq{CREATE STATISTICS public.bob_stats ON (public.bobs(grp)) FROM $batch;
	   ALTER STATISTICS public.bob_stats OWNER TO bob;});

my ($ret, $out, $err) = $node->psql('postgres', q{ALTER EXTENSION lambda UPDATE});
is($ret, 0, 'the update succeeds');
like($err, qr/the owner of lambda view v has no TRIGGER privilege|^$/, 'warnings only about views whose owner lacks TRIGGER');
is(sql(q{SELECT count(*) FROM pg_statistic_ext WHERE stxrelid IN (SELECT batch_table FROM lambda.view)}),
	'0', 'what the old owner attached to the batch table is gone');
is(sql(q{SELECT extversion FROM pg_extension WHERE extname = 'lambda'}), '0.5', 'updated to 0.5');
is(sql(q{SELECT string_agg((relowner = (SELECT relowner FROM pg_class WHERE oid = 'lambda.view'::regclass))::text
				|| ':' || coalesce(array_to_string(reloptions, ','), ''), ' ' ORDER BY relname)
		 FROM pg_class WHERE oid IN (SELECT batch_table FROM lambda.view UNION ALL SELECT partial_view FROM lambda.view)}),
	'true: true:security_invoker=true',
	'internal relations belong to the extension owner; the partial view is security_invoker');
is(sql(q{SELECT string_agg(DISTINCT relnamespace::regnamespace::text, ',')
		 FROM pg_class WHERE oid IN (SELECT batch_table FROM lambda.view UNION ALL SELECT partial_view FROM lambda.view)}),
	'pg_lambda', 'internal relations moved to pg_lambda');
is(sql(q{SELECT pg_get_viewdef('v') ~ format('lambda\.serve\(''%s''::bigint\)', id) AND id = view::oid
		 FROM lambda.view}), 't', 'the view reads itself by id, its OID at the update');
is(sql(q{SELECT has_table_privilege('bob', partial_view, 'SELECT') AND NOT has_table_privilege('bob', batch_table, 'INSERT')
		 FROM lambda.view}), 't', 'bob reads the partial view, writes nothing');
is(sql(q{SELECT has_function_privilege('bob', 'lambda.capture()', 'EXECUTE')}), 'f', 'capture() is not PUBLIC');
is(sql(q{SELECT has_table_privilege('carol', batch_table, 'SELECT') OR has_table_privilege('dave', batch_table, 'SELECT')
		 FROM lambda.view}), 'f', 'rights bob passed on are gone');
is(sql(q{SELECT count(*) FROM pg_event_trigger WHERE evtname = 'lambda_ddl_end' AND 'CREATE SCHEMA' = ANY (evttags)}),
	'1', 'the event trigger follows CREATE SCHEMA');

# exact, capturing, batches as bob
is(differences($node, 'v', $query), '0', 'exact after the update');
sql(q{INSERT INTO events SELECT i, 'new', 3 FROM generate_series(1201, 1300) i});
is(differences($node, 'v', $query), '0', 'new rows are captured');
is(sql(q{SET ROLE bob; SELECT lambda.run_batch('v')}), '8', 'bob runs batches');
ok(wait_fast($node, 'v'), 'on the fast path');
is(exact($node, 'v', $query), 't|0', 'exact on the fast path');
isnt(sql(q{SELECT lambda.settle_rounds('v')}), '', 'settle_rounds exists');

# 0.3's aggregates, expressions over them and HAVING, in the updated database
my $gquery = q{SELECT grp, variance(amount) AS var, bool_and(amount > 0) AS pos,
                      sum(amount) / count(*) AS mean FROM events GROUP BY grp HAVING count(*) > 1};
sql(qq{SET ROLE bob; SELECT lambda.create_view('v_gen', \$\$ $gquery \$\$)});
sql(q{INSERT INTO events SELECT i, 'g' || (i % 7), i % 3 FROM generate_series(1, 50) i});
ok(wait_fast($node, 'v_gen'), 'the new view is on the fast path');
is(exact($node, 'v_gen', $gquery), 't|0', 'a view with 0.3 aggregates is exact on the fast path');

# 0.4's compaction, of a view made under 0.1 and of one made since
sql(q{INSERT INTO events SELECT i, 'g' || (i % 9), 2 FROM generate_series(1, 40) i});
ok(wait_fast($node, 'v_gen'), 'fresh rows on the fast path');
is(sql(q{SET ROLE bob; SELECT lambda.compact('v') > 0, lambda.compact('v_gen') > 0}), 't|t',
	'bob compacts both views');
is(sql(q{SELECT string_agg(compactions || ':' || speed_groups, ' ' ORDER BY view::text) FROM lambda.views}),
	'1:0 1:0', 'each compaction is counted and leaves the speed layer empty');
is(exact($node, 'v', $query), 't|0', 'the view made under 0.1 is exact after a compaction');
is(exact($node, 'v_gen', $gquery), 't|0', 'the view made under 0.3 is exact after a compaction');

# the query 0.1 stored as bob typed it is stored normalized, so that a dump
# of the updated database restores (here into another database)
like(sql(q{SELECT query FROM lambda.view}), qr/FROM public\.events/, 'the query is stored normalized');
my ($restore_out, $restore_err) = ('', '');
IPC::Run::run(['pg_dump', '-d', $node->connstr('postgres')], '|',
	['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored')],
	'>', \$restore_out, '2>', \$restore_err)
  if sql(q{CREATE DATABASE restored}) eq '';
is($restore_err, '', 'a dump of the updated database restores with nothing on stderr');
is(differences($node, 'v', $query, 'restored'), '0', 'the restored view is exact');
ok(wait_fast($node, 'v', 60, 'restored'), 'and back on the fast path by itself');

# 0.5 renamed the library's C symbols (lambda_ prefix): a database made
# under 0.4 names the bare ones, which this library no longer exports, until
# ALTER EXTENSION lambda UPDATE points each function at its new symbol.  The
# catalog is made to look as 0.4's scripts left it.
my $fresh = 'fresh05';
sql(qq{CREATE DATABASE $fresh});
$node->safe_psql($fresh, q{CREATE EXTENSION lambda});
sql(q{CREATE DATABASE old04});
my $old = sub { return $node->safe_psql('old04', $_[0]) };
$old->(q{
	CREATE EXTENSION lambda VERSION '0.4';
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 5), i % 10 FROM generate_series(1, 1000) i;
});
$old->(qq{SELECT lambda.create_view('v', \$\$ $query \$\$)});
my $cfuncs = q{SELECT p.oid, p.prosrc FROM pg_proc p
			   JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
			   JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'lambda'
			   WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')};
$old->(qq{UPDATE pg_proc SET prosrc = regexp_replace(prosrc, '^lambda_', '')
		   WHERE oid IN (SELECT oid FROM ($cfuncs) f)
			 AND prosrc NOT IN ('lambda_check_preloaded', 'lambda_compact', 'lambda_speed_memory_used',
								'lambda_state_in', 'lambda_state_out')});
is($old->(qq{SELECT count(*) > 20 FROM ($cfuncs) f WHERE prosrc !~ '^lambda_'}), 't',
	'a database made under 0.4 names bare symbols');
($ret, $out, $err) = $node->psql('old04', q{INSERT INTO events VALUES (0, 'g0', 1)});
like($err, qr/could not find function "capture"/,
	'until the update, its capture trigger finds no symbol (the README says to update first)');
($ret, $out, $err) = $node->psql('old04', q{ALTER EXTENSION lambda UPDATE});
is($ret, 0, 'the update from 0.4 succeeds');
is($old->(qq{SELECT count(*) FROM ($cfuncs) f WHERE prosrc !~ '^lambda_'}), '0',
	'every C function names a lambda_ symbol after the update');
my $defs = q{SELECT string_agg(pg_get_functiondef(p.oid) || coalesce(obj_description(p.oid, 'pg_proc'), '')
							   || coalesce(p.proacl::text, ''), E'\n' ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p
			 JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
			 JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'lambda'
			 WHERE p.prokind = 'f'};
my $updated_defs = $old->($defs);
is($updated_defs, $node->safe_psql($fresh, $defs),
	'its functions are defined as a fresh 0.5 install defines them (with comments and privileges)');
$old->(q{INSERT INTO events SELECT i, 'g' || (i % 7), 3 FROM generate_series(1, 300) i});
is(exact($node, 'v', $query, 'old04'), 't|0', 'the view is exact and capturing after the update');
ok($old->(q{SELECT lambda.run_batch('v')}) > 0, 'a batch runs');
$old->(q{INSERT INTO events SELECT i, 'g' || (i % 3), 4 FROM generate_series(1, 30) i});
ok(wait_fast($node, 'v', 60, 'old04'), 'fresh rows on the fast path');
ok($old->(q{SELECT lambda.compact('v')}) > 0, 'and it compacts');
is(exact($node, 'v', $query, 'old04'), 't|0', 'exact after the compaction');

done_testing();
