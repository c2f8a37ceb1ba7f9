using Parley.Server;

var app = ParleyApp.Build(args);
try
{
    ParleyApp.ValidateConfiguration(app);
    await app.RunAsync();
}
catch (Exception e) when (ParleyApp.ConfigurationProblems(e) is { Count: > 0 } problems)
{
    // A configuration mistake is not a crash: say what is wrong, one line per problem, and exit.
    Console.Error.WriteLine("Parley cannot start: the configuration has problems.");
    foreach (var problem in problems)
        Console.Error.WriteLine("  - " + problem);
    Console.Error.WriteLine("See docs/configuration.md.");
    return 2;
}
return 0;

