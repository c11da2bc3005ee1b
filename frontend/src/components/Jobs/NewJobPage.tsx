import { useNavigate } from "@tanstack/react-router";
import { NewJobForm } from "./NewJobForm";
import { useSubmitJob } from "./queries";

export function NewJobPage() {
  const navigate = useNavigate();
  const submit = useSubmitJob();
  return (
    <>
      <h1>New job</h1>
      <NewJobForm
        submit={(spec) => submit.mutateAsync(spec)}
        onCreated={(job) => void navigate({ to: "/jobs/$jobId", params: { jobId: job.id } })}
      />
    </>
  );
}
