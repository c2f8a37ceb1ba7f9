using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Parley.Signaling;

/// <summary>
/// The key sealing resume tokens: from configuration, else generated once and kept in the data directory so
/// that clients can resume their sessions after the server restarts.
/// </summary>
public sealed class ResumeKeyProvider(IOptions<SignalingOptions> options, ILogger<ResumeKeyProvider> logger)
{
    public byte[] GetKey()
    {
        if (!string.IsNullOrEmpty(options.Value.ResumeKey))
            return Convert.FromBase64String(options.Value.ResumeKey);

        var directory = options.Value.EffectiveDataDirectory;
        try
        {
            return Convert.FromBase64String(PersistentSecret.LoadOrCreate(directory, "resume.key"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ResumeKeyNotPersisted(logger, e, directory);
            return RandomNumberGenerator.GetBytes(32);
        }
    }
}
