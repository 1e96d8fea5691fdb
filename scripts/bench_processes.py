"""Processes shared by the bench scripts: wechat-mock and tokend workers they start and stop by PID."""
import signal
import subprocess


class BenchProcesses:
    """Starts wechat-mock and tokend workers from `bin_dir`, logging to `log`; `stop()` ends them all."""

    def __init__(self, bin_dir, log):
        self.bin_dir, self.log, self.processes = bin_dir, log, []

    def start_mock(self, *flags):
        """Starts wechat-mock on a free port with `flags`; returns its base URL."""
        mock = subprocess.Popen([f"{self.bin_dir}/wechat-mock", "--port", "0", *flags],
                                stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.processes.append(mock)
        return mock.stdout.readline().strip().rsplit(" ", 1)[-1]

    def start_worker(self, config_path, yaml, log_level="warning", env=None):
        """Writes `yaml` to `config_path` and starts a tokend worker with it."""
        with open(config_path, "w") as f:
            f.write(yaml)
        worker = subprocess.Popen([f"{self.bin_dir}/tokend", "--config", config_path, "--log-level", log_level],
                                  stdout=self.log, stderr=self.log, env=env)
        self.processes.append(worker)
        return worker

    def stop(self, timeout=20):
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
