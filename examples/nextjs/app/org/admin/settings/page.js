// Where the UpgradeGate link goes (the default upgradeHref of SPEC §4).
export default function PlanSettings() {
  return (
    <main>
      <h1>Plan and billing</h1>
      <p>Choose a plan for this organization, or contact sales for an Enterprise license.</p>
      <p>
        <a href="/">Back</a>
      </p>
    </main>
  )
}
