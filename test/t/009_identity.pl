# Identity: a worker never runs a view's code as the bootstrap superuser it
# connects as.  After a crash the worker's recovery batch, and the exact
# slow path a superuser reads meanwhile, run the view's functions as the
# view's owner (an ordinary role), restricted, with search_path pinned; the
# worker's settling of the owner's deltas works under the same identity.
# A function of the view's owner reports whose rights it runs with, in the
# server log.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;
use LambdaTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = lambda_node('identity', extra_conf => "restart_after_crash = on\n");

my $query = q{SELECT grp, count(*) AS n, sum(amount) AS total
              FROM events WHERE public.probe(amount) GROUP BY grp};

sub sql { return $node->safe_psql('postgres', $_[0]) }

# The probe lines the server logged from offset on: "user|superuser|path".
sub probes
{
	my ($offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	return ($log =~ /lambda_probe: (\S+\|[tf]\|[^\n]*)/g);
}

sql(q{
	CREATE EXTENSION lambda;
	CREATE ROLE bob LOGIN;
	CREATE TABLE events (id int NOT NULL, grp text NOT NULL, amount numeric);
	SELECT lambda.create_master('events');
	GRANT SELECT, TRIGGER ON events TO bob;
	GRANT CREATE ON SCHEMA public TO bob;
	INSERT INTO events SELECT i, 'g' || (i % 3), i % 10 FROM generate_series(1, 30) i;
	-- an "IMMUTABLE" function of bob's that reports whose rights it has
	SET ROLE bob;
	CREATE FUNCTION public.probe(numeric) RETURNS boolean
	LANGUAGE plpgsql IMMUTABLE AS $$
	BEGIN
		RAISE LOG 'lambda_probe: %|%|%', current_user,
			(SELECT CASE WHEN rolsuper THEN 't' ELSE 'f' END
			   FROM pg_catalog.pg_roles WHERE rolname = current_user),
			current_setting('search_path');
		RETURN $1 >= 0;
	END $$;
	RESET ROLE;
});
sql(qq{SET ROLE bob; SELECT lambda.create_view('v', \$\$ $query \$\$)});
ok(wait_fast($node, 'v', 60), 'v on the fast path');

# bob's rows settle: the worker merges them as bob
sql(q{INSERT INTO events SELECT i, 'g' || (i % 4), 1 FROM generate_series(31, 60) i});
ok(wait_until($node, q{SELECT speed_pending = 0 FROM lambda.views WHERE view = 'v'::regclass}),
	'the worker settles the deltas');

# crash: the worker's recovery batch restores the fast path
my $offset = -s $node->logfile;
$node->stop('immediate');
$node->start;
# a superuser's read, on the slow path until the recovery batch
is(sql(q{SELECT sum(n) FROM v}), '60', 'the view counts every row after the crash');
ok(wait_fast($node, 'v', 60), 'a recovery batch restored the fast path');
my $log = slurp_file($node->logfile, $offset);
like($log, qr/rebuilt the speed layer of view "v"/, 'the worker ran the recovery batch');

my @probes = probes($offset);
ok(scalar(@probes) > 0, "the view's function ran after the crash");
my @foreign = grep { $_ ne 'bob|f|pg_catalog, pg_temp' } @probes;
is(scalar(@foreign), 0,
	"every run of the view's function after the crash was as bob, with search_path pinned")
  or diag(join("\n", @foreign));

# rows inserted after the crash settle as before, and the view is exact
sql(q{INSERT INTO events SELECT i, 'g' || (i % 5), 2 FROM generate_series(61, 90) i});
ok(wait_until($node, q{SELECT speed_pending = 0 FROM lambda.views WHERE view = 'v'::regclass}),
	'the worker settles the deltas after the crash');
is(exact($node, 'v', $query), 't|0', 'exact on the fast path');

done_testing();
