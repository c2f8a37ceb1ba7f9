using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Parley.Server.Tests;

public sealed class LogFormatTests
{
    [Theory]
    [InlineData("--log-format", "json")]
    [InlineData("--Logging:Format=json", null)]
    public async Task The_json_format_makes_the_console_logger_write_json_objects(string setting, string? value)
    {
        string[] args = ["--urls", "http://127.0.0.1:0", "--Turn:Enabled=false", setting];
        var app = ParleyApp.Build(value is null ? args : [.. args, value]);

        var formatterName = app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        var formatter = app.Services.GetServices<ConsoleFormatter>().Single(f => f.Name == formatterName);
        using var output = new StringWriter();
        formatter.Write(new LogEntry<string>(LogLevel.Information, "Parley.Signaling.SignalingHub", new EventId(1002, "JoinedRoom"), "",
            null, (_, _) => "Peer abc joined room room-1 (1/4)"), null, output);

        Assert.Equal(ConsoleFormatterNames.Json, formatterName);
        using var line = JsonDocument.Parse(output.ToString().TrimEnd());
        Assert.Equal(1002, line.RootElement.GetProperty("EventId").GetInt32());
        Assert.Equal("Peer abc joined room room-1 (1/4)", line.RootElement.GetProperty("Message").GetString());
        await app.DisposeAsync();
    }

    /// <summary>The real process: started with --log-format json, its console lines are JSON objects.</summary>
    [Fact]
    public async Task The_server_process_started_with_log_format_json_prints_json_log_lines()
    {
        var dll = typeof(ParleyApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--urls", "http://127.0.0.1:0", "--log-format", "json", "--Turn:Enabled=false",
            "--Signaling:ResumeKey=" + RunningServer.ResumeKey })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            // Every line up to the URL announcement is a JSON object, the announcement included (event 3001).
            JsonElement? running = null;
            while (running is null && await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var logged = JsonDocument.Parse(line).RootElement.Clone();
                Assert.True(logged.TryGetProperty("LogLevel", out _), line);
                Assert.True(logged.TryGetProperty("Category", out _), line);
                if (logged.GetProperty("EventId").GetInt32() == 3001)
                    running = logged;
            }

            Assert.NotNull(running);
            Assert.StartsWith("http://127.0.0.1:", running.Value.GetProperty("State").GetProperty("Url").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
    }
}
