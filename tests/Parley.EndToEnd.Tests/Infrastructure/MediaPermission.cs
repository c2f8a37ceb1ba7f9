namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// What the browser context grants. Headless Chromium answers getUserMedia for a device without permission
/// with NotAllowedError at once, exactly as when a user clicks "Block"; asking for audio and video together
/// fails if either is not granted.
/// </summary>
internal enum MediaPermission
{
    CameraAndMicrophone,
    MicrophoneOnly,
    None,
}
