# What the preloaded library exports: every backend loads lambda.so, so its
# dynamic symbol table holds only what PostgreSQL looks up by name (the
# SQL-callable functions the extension's scripts name, with their info
# functions, and the background workers' entry points), all with the
# lambda_ prefix, besides _PG_init and the magic block, whose names
# PostgreSQL sets.  Every other function is hidden (the Makefile builds
# with -fvisibility=hidden), whatever its name.

use strict;
use warnings;

use FindBin;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;

my ($libdir, $err) = ('', '');
IPC::Run::run([ 'pg_config', '--pkglibdir' ], '>', \$libdir, '2>', \$err)
  or die "pg_config --pkglibdir failed: $err";
chomp $libdir;
my $library = "$libdir/lambda.so";
ok(-e $library, "the installed library is there ($library)");

my $out = '';
IPC::Run::run([ 'nm', '-D', '--defined-only', $library ], '>', \$out, '2>', \$err)
  or die "nm failed: $err";
my %exported;
for my $line (split /\n/, $out)
{
	my ($addr, $type, $name) = split ' ', $line;
	$exported{$name} = 1 if defined $name && $type =~ /^[TDBR]$/;
}

# the C symbols the extension's scripts, of every version, call
my %called;
for my $script (glob("$FindBin::RealBin/../../sql/lambda--*.sql"))
{
	my $text = slurp_file($script);
	$called{$1} = 1 while $text =~ /MODULE_PATHNAME',\s*'([a-z_0-9]+)'/g;
}
cmp_ok(scalar(keys %called), '>', 20, 'the scripts call C functions');

my @missing = grep { !$exported{$_} || !$exported{"pg_finfo_$_"} } sort keys %called;
is("@missing", '', 'every C function a script calls is exported, with its info function');
my @bare = grep { !/^lambda_/ } sort keys %called;
is("@bare", '', 'every C function a script calls has the lambda_ prefix');

my @unexpected = grep {
	my $name = $_;
	!($name =~ /^(pg_finfo_)?lambda_/
		|| $name eq '_PG_init'
		|| $name eq 'Pg_magic_func')
} sort keys %exported;
is("@unexpected", '', 'nothing is exported without the lambda_ prefix but _PG_init and the magic block');

done_testing();
