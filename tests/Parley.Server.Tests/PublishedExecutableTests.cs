using System.Diagnostics;
using System.Net;

namespace Parley.Server.Tests;

/// <summary>
/// The documented publish command gives one self-contained executable (the web app beside it) that runs with no
/// .NET installed: started with an empty environment, it serves the app and /healthz, maps no file of the installed
/// runtime, and stops cleanly on SIGTERM.
/// </summary>
public sealed class PublishedExecutableTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("parley-publish-").FullName;

    [Fact]
    public async Task The_single_file_executable_serves_the_app_and_health_without_a_dotnet_installation()
    {
        var output = Path.Combine(_folder, "out");
        await PublishAsync(output);
        var executable = Path.Combine(output, "Parley.Server");
        Assert.True(File.Exists(executable), "no single executable named Parley.Server");
        Assert.DoesNotContain(Directory.GetFiles(output), f => f.EndsWith(".dll", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(output, "web", "ui", "index.html")), "the web app is not beside the executable");

        var empty = Directory.CreateDirectory(Path.Combine(_folder, "empty-path")).FullName;
        await using var parley = await ParleyProcess.StartAsync(executable,
            ["--urls", "http://127.0.0.1:0", "--Signaling:DataDirectory=" + Path.Combine(_folder, "data"),
             "--Turn:UdpPort=0", "--Turn:TcpPort=0", "--Turn:RelayAddresses:0=127.0.0.1"],
            // No DOTNET_ROOT, no PATH to a dotnet: nothing to find an installed runtime with.
            new Dictionary<string, string> { ["PATH"] = empty, ["HOME"] = _folder });
        using var http = new HttpClient { BaseAddress = parley.BaseUri, Timeout = TimeSpan.FromSeconds(10) };

        var page = await http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("ui/app.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/ui/app.js", UriKind.Relative))).StatusCode);
        Assert.Equal("Healthy", await http.GetStringAsync(new Uri("/healthz", UriKind.Relative)));

        var installedRuntime = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        Assert.DoesNotContain(parley.MappedFiles(), f => f.StartsWith(installedRuntime, StringComparison.Ordinal));

        parley.Terminate();
        Assert.Equal(0, await parley.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>
    /// The documented publish command, offline: <c>scripts/test.sh</c> restored (with linux-x64, which the project
    /// always restores) before entering the network namespace. No build servers, so nothing outlives the test.
    /// </summary>
    private static async Task PublishAsync(string output)
    {
        var project = Path.Combine(RepositoryRoot(), "src", "Parley.Server");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", project, "-c", "Release", "-r", "linux-x64", "--no-restore", "--disable-build-servers", "-o", output, "-nologo", "-v", "q" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var publish = Process.Start(start)!;
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await publish.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            publish.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet publish took more than 8 minutes");
        }
        Assert.True(publish.ExitCode == 0, $"dotnet publish failed ({publish.ExitCode}):\n{await stdout}\n{await stderr}");
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Parley.slnx")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No Parley.slnx above {AppContext.BaseDirectory}.");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
