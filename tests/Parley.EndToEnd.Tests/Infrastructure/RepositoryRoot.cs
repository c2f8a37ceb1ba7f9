namespace Parley.EndToEnd.Infrastructure;

/// <summary>The checkout this build came from: the nearest folder above the binaries that holds Parley.slnx.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Parley.slnx")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"No Parley.slnx above {AppContext.BaseDirectory}.");
    }
}
