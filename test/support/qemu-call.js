// One QEMU driver call in a process of its own, as an agent makes it: test/qemu-crash.test.ts kills this process
// mid-call (SIGKILL), as a crashing agent would be, then makes the call again from another driver.
// argv: the compiled driver module, then {"options", "method", "args"} as JSON.
const { QemuDriver } = require(process.argv[2]);
const { options, method, args } = JSON.parse(process.argv[3]);
const driver = new QemuDriver(options);
// The parent starts its kill timer when it reads this line: the delays count from the call's start.
process.stdout.write('calling\n');
driver[method](...args).then(
  async () => {
    await driver.close();
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  },
);
