import { useNavigate } from "@tanstack/react-router";
import { NotAllowed } from "../Common/NotAllowed";
import { useRole } from "../Common/useRole";
import { NewJobForm } from "./NewJobForm";
import { useSubmitJob } from "./queries";

export function NewJobPage() {
  const navigate = useNavigate();
  const submit = useSubmitJob();
  const { me, role, can } = useRole();
  return (
    <>
      <h1>New job</h1>
      {me && !can("submitJobs") ? (
        <NotAllowed role={role} needs="member" />
      ) : (
        <NewJobForm
          submit={(spec) => submit.mutateAsync(spec)}
          onCreated={(job) => void navigate({ to: "/jobs/$jobId", params: { jobId: job.id } })}
        />
      )}
    </>
  );
}
