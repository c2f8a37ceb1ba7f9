using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Parley.Stun.Bench -- --filter '*' --artifacts /tmp/parley-bench
// (--artifacts keeps BenchmarkDotNet's output folder out of the work tree.)
BenchmarkSwitcher.FromAssembly(typeof(Parley.Stun.Bench.CodecBenchmarks).Assembly).Run(args);
