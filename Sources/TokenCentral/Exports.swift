/// The Redis contract's names and messages (`TokenKeys`, `RefreshMessage`, `RefreshedAnnouncement`) are
/// part of this library's API, as `TokenStore.keys` shows: importing `TokenCentral` brings them along.
@_exported import TokenCentralContract
