# More databases with lambda views than lambda.workers: every database's
# views must still be kept.  Here lambda.workers = 1 and two databases have
# a view; after a crash (which empties the speed layer) both views must
# come back on the fast path by themselves, and both must go on settling
# deltas, within a bounded time.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = lambda_node('databases', extra_conf => "lambda.workers = 1\n");

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total FROM events GROUP BY grp};
my @dbs = ('db1', 'db2');

foreach my $db (@dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION lambda;
		CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
		SELECT lambda.create_master('events');
		INSERT INTO events SELECT i, 'g' || (i % 3), i FROM generate_series(1, 100) i;
	});
	$node->safe_psql($db, qq{SELECT lambda.create_view('v', \$\$ $query \$\$)});
	$node->safe_psql($db, q{INSERT INTO events SELECT i, 'late', i FROM generate_series(101, 110) i});
	is(exact($node, 'v', $query, $db), 't|0', "$db: exact on the fast path");
}

$node->stop('immediate');
$node->start;

foreach my $db (@dbs)
{
	# an insert asks for a worker in the database
	$node->safe_psql($db, q{INSERT INTO events SELECT i, 'after', i FROM generate_series(201, 210) i});
	is(differences($node, 'v', $query, $db), '0', "$db: exact after the restart");
}
foreach my $db (@dbs)
{
	ok(wait_fast($node, 'v', 30, $db), "$db: back on the fast path after the restart");
	is(exact($node, 'v', $query, $db), 't|0', "$db: exact on the fast path");
	# deltas get settled: speed_groups counts the settled groups
	$node->safe_psql($db, q{INSERT INTO events SELECT i, 'settle', i FROM generate_series(301, 310) i});
	ok(wait_until($node, q{SELECT speed_groups > 0 FROM lambda.views}, 't', 30, $db),
		"$db: its deltas are settled");
}

# a dropped database gives its worker slot, and its views' speed state,
# back: a database made afterwards still gets its views kept
# (no FORCE: the lambda worker connected to the database does not stop it)
$node->safe_psql('db1', q{INSERT INTO events SELECT i, 'last', i FROM generate_series(401, 410) i});
ok(wait_until($node, q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'db1'}, '1', 60), 'a worker is connected to db1');
$node->safe_psql('postgres', 'DROP DATABASE db1');
$node->safe_psql('postgres', 'CREATE DATABASE db3');
$node->safe_psql('db3', q{
	CREATE EXTENSION lambda;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	INSERT INTO events SELECT i, 'g' || (i % 3), i FROM generate_series(1, 100) i;
});
$node->safe_psql('db3', "SELECT lambda.create_view('v', \$\$ $query \$\$)");
$node->safe_psql('db3', q{INSERT INTO events SELECT i, 'settle', i FROM generate_series(301, 310) i});
ok(wait_until($node, q{SELECT speed_groups > 0 FROM lambda.views}, 't', 60, 'db3'),
	'db3: its deltas are settled after db1 was dropped');
is(exact($node, 'v', $query, 'db3'), 't|0', 'db3: exact on the fast path');
ok(wait_until($node, q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'lambda worker'
	AND datid NOT IN (SELECT oid FROM pg_database)}, '0', 30), 'no worker for the dropped database');

# renaming a database whose worker is connected works too, and its views
# carry on under the new name
ok(wait_until($node, q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'lambda worker' AND datname = 'db3'}, '1', 60), 'a worker is connected to db3');
$node->safe_psql('postgres', 'ALTER DATABASE db3 RENAME TO db4');
$node->safe_psql('db4', q{INSERT INTO events SELECT i, 'renamed', i FROM generate_series(501, 510) i});
ok(wait_until($node, q{SELECT speed_pending = 0 AND lambda.fast_path('v') FROM lambda.views}, 't', 60, 'db4'),
	'db4: a worker settles its deltas after the rename');
is(exact($node, 'v', $query, 'db4'), 't|0', 'db4: exact on the fast path');

$node->stop;
done_testing();
